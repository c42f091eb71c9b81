/**
 * `npm run docs:check`: the code in README.md and docs/*.md is code.
 *
 * 1. Builds the package (`npm run build`), because the blocks import it by name (`userharbor`,
 *    `userharbor/sqlite`, ...): the package references itself through its `exports`, which point at `dist`. So a
 *    block sees exactly what a user who installed the package sees, never `src`.
 * 2. Extracts every `ts` block into `.scratch/docs/src/` (gitignored) and compiles them all with strict `tsc`
 *    (the repo's settings, minus the unused-name checks: a doc may define something for the reader to use).
 * 3. Runs the blocks marked `<!-- docs:run -->` (the HTML comment line right before the fence; it renders as
 *    nothing on GitHub and npm), each with node in a fresh temporary directory (so SQLite files land there) and a
 *    random `USERHARBOR_SECRET_KEY`. Blocks that import `@effect/vitest` run through vitest instead.
 *    Marker options: `pg` / `mysql` (the block reads `USERHARBOR_DATABASE_URL`; it is set from
 *    `USERHARBOR_TEST_PG_URL` / `USERHARBOR_TEST_MYSQL_URL`, and the block is skipped with a notice when that is
 *    unset), `driver=<name>` (the block is a server: a driver below starts it and sends it requests),
 *    `harness=<name>` (the block only exports something: `scripts/docs-harness/<name>.ts` uses it).
 *
 * `npm run docs:check -- README.md docs/storage.md` checks only those files.
 *
 * Fails on any compile error, any failed run, a marker without a block, or a block in another language tag that
 * could hide TypeScript from the check (`typescript`, `tsx`, `js`, ...). Prints how many blocks were compiled and
 * run.
 */
import { Effect, Layer, Option, Redacted } from "effect"
import { execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { basename, dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as PasswordHasher from "../src/PasswordHasher.js"
import * as RecordingEmailSender from "../src/RecordingEmailSender.js"
import * as SecureRandom from "../src/SecureRandom.js"
import * as SqliteUserStore from "../src/SqliteUserStore.js"
import * as UserHarbor from "../src/UserHarbor.js"
import * as UserHarborConfig from "../src/UserHarborConfig.js"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const scratch = join(root, ".scratch", "docs")
const started = performance.now()

interface Block {
  readonly file: string
  readonly line: number
  readonly code: string
  readonly name: string
  readonly isTest: boolean
  readonly run: RunSpec | undefined
}

interface RunSpec {
  readonly database: "pg" | "mysql" | undefined
  readonly driver: string | undefined
  readonly harness: string | undefined
}

const problems: Array<string> = []

// A block that only defines something (a module a reader imports) runs through a harness: a program kept in
// scripts/docs-harness/, compiled next to the block with `./BLOCK.js` pointing at it.
const harnessPath = (name: string) => join(root, "scripts", "docs-harness", `${name}.ts`)

// `npm run docs:check -- docs/storage.md` checks only the files named; CI names none, so it checks them all.
const only = process.argv.slice(2)

const docFiles = (): Array<string> =>
  [
    "README.md",
    ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).sort().map((name) => `docs/${name}`)
  ].filter((file) => only.length === 0 || only.includes(file))

const parseMarker = (text: string, where: string): RunSpec | undefined => {
  const match = /^<!--\s*docs:run\b(.*?)-->\s*$/.exec(text.trim())
  if (match === null) return undefined
  let database: RunSpec["database"] = undefined
  let driver: string | undefined = undefined
  let harness: string | undefined = undefined
  for (const option of (match[1] ?? "").trim().split(/\s+/).filter((word) => word !== "")) {
    if (option === "pg" || option === "mysql") database = option
    else if (option.startsWith("driver=")) driver = option.slice("driver=".length)
    else if (option.startsWith("harness=")) harness = option.slice("harness=".length)
    else problems.push(`${where}: unknown docs:run option "${option}"`)
  }
  return { database, driver, harness }
}

const hiddenLanguages = new Set(["typescript", "tsx", "mts", "cts", "js", "jsx", "javascript", "mjs", "cjs"])

const extract = (file: string): Array<Block> => {
  const lines = readFileSync(join(root, file), "utf8").split("\n")
  const blocks: Array<Block> = []
  let pendingMarker: { spec: RunSpec; line: number } | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ""
    const where = `${file}:${i + 1}`
    const marker = parseMarker(line, where)
    if (marker !== undefined) {
      if (pendingMarker !== undefined) problems.push(`${file}:${pendingMarker.line}: docs:run marker without a block`)
      pendingMarker = { spec: marker, line: i + 1 }
      continue
    }
    const fence = /^(\s*)(`{3,})\s*([\w-]*)/.exec(line)
    if (fence === null) {
      if (line.trim() !== "" && pendingMarker !== undefined) {
        problems.push(`${file}:${pendingMarker.line}: docs:run marker must come right before a ts block`)
        pendingMarker = undefined
      }
      continue
    }
    const language = fence[3] ?? ""
    const close = new RegExp(`^\\s*${fence[2]}\\s*$`)
    let end = i + 1
    while (end < lines.length && !close.test(lines[end] ?? "")) end++
    if (end === lines.length) problems.push(`${where}: unclosed code fence`)
    const indent = (fence[1] ?? "").length
    const body = lines.slice(i + 1, end).map((text) => text.slice(Math.min(indent, text.search(/\S|$/))))
    if (hiddenLanguages.has(language)) {
      problems.push(`${where}: a \`${language}\` block; use \`ts\` so the docs check compiles it`)
    } else if (language === "ts") {
      const code = body.join("\n") + "\n"
      const isTest = /from\s+"@effect\/vitest"/.test(code)
      const name = `${basename(file, ".md").toLowerCase()}-L${i + 1}`
      blocks.push({ file, line: i + 1, code, name, isTest, run: pendingMarker?.spec })
    } else if (pendingMarker !== undefined) {
      problems.push(`${file}:${pendingMarker.line}: docs:run marker before a \`${language}\` block`)
    }
    pendingMarker = undefined
    i = end
  }
  if (pendingMarker !== undefined) problems.push(`${file}:${pendingMarker.line}: docs:run marker without a block`)
  return blocks
}

const npx = (args: ReadonlyArray<string>, options: { cwd?: string } = {}): void => {
  execFileSync("npx", args, { cwd: options.cwd ?? root, stdio: "inherit" })
}

const compilerOptions = {
  target: "ES2022",
  lib: ["ES2024"],
  module: "NodeNext",
  moduleResolution: "NodeNext",
  types: ["node"],
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noFallthroughCasesInSwitch: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  skipLibCheck: true,
  noEmitOnError: true,
  sourceMap: true,
  rootDir: "src",
  outDir: "out"
}

const freePort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })

interface Started {
  readonly exited: Promise<number | null>
  readonly output: () => string
  readonly kill: (signal: NodeJS.Signals) => void
}

const start = (
  script: string,
  env: NodeJS.ProcessEnv,
  cwd: string = mkdtempSync(join(tmpdir(), "userharbor-docs-")),
  args: ReadonlyArray<string> = []
): Started => {
  const child = spawn(process.execPath, ["--enable-source-maps", script, ...args], { cwd, env, stdio: "pipe" })
  let output = ""
  child.stdout.on("data", (chunk: Buffer) => output += chunk.toString())
  child.stderr.on("data", (chunk: Buffer) => output += chunk.toString())
  const timer = setTimeout(() => child.kill("SIGKILL"), 180_000)
  const exited = new Promise<number | null>((resolveExit) =>
    child.on("exit", (code) => {
      clearTimeout(timer)
      rmSync(cwd, { recursive: true, force: true })
      resolveExit(code)
    })
  )
  return { exited, output: () => output, kill: (signal) => child.kill(signal) }
}

// A schema (PostgreSQL) or database (MariaDB/MySQL) of the block's own, as the test suites do, so a run leaves
// nothing behind and never meets another run's tables.
const privateDatabase = async (
  kind: "pg" | "mysql",
  url: string
): Promise<{ readonly url: string; readonly drop: () => Promise<void> }> => {
  const name = `userharbor_docs_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`
  const scoped = new URL(url)
  if (kind === "pg") {
    const { default: pg } = await import("pg")
    const admin = async (statement: string) => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        await client.query(statement)
      } finally {
        await client.end()
      }
    }
    await admin(`CREATE SCHEMA ${name}`)
    scoped.searchParams.set("options", `-c search_path=${name}`)
    return { url: scoped.toString(), drop: () => admin(`DROP SCHEMA ${name} CASCADE`) }
  }
  const mysql = await import("mysql2/promise")
  const admin = async (statement: string) => {
    const connection = await mysql.createConnection(url)
    try {
      await connection.query(statement)
    } finally {
      await connection.end()
    }
  }
  await admin(`CREATE DATABASE ${name}`)
  scoped.pathname = `/${name}`
  return { url: scoped.toString(), drop: () => admin(`DROP DATABASE ${name}`) }
}

// A verified account in a SQLite file, made through the library itself (from src: this is the check's own setup,
// not a doc block), so a server block can be driven through a successful login too.
const seedVerifiedUser = (filename: string, secretKey: string, user: typeof jane): Promise<void> =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor.UserHarbor
    const mail = yield* RecordingEmailSender.RecordingEmailSender
    yield* harbor.register(user)
    const token = yield* mail.lastToken("VerificationEmail", user.email)
    yield* harbor.verifyEmail(Option.getOrThrow(token))
  }).pipe(
    Effect.provide(UserHarbor.layer.pipe(Layer.provideMerge(Layer.mergeAll(
      SqliteUserStore.layer({ filename }),
      RecordingEmailSender.layer,
      PasswordHasher.layer(),
      SecureRandom.layer,
      UserHarborConfig.layer({ secretKey: Redacted.make(secretKey) })
    )))),
    Effect.runPromise
  )

const jane = { username: "jane", email: "jane@example.com", password: "StrongPassword123!" }

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms))

const check = (condition: boolean, message: string): void => {
  if (!condition) throw new Error(message)
}

// Drivers exercise blocks that are servers. Each gets the compiled script and the environment to start it with.
const drivers: Record<string, (script: string, env: NodeJS.ProcessEnv) => Promise<void>> = {
  // docs/integration.md's CLI: the command answers (the SMTP layer connects only to send, and an unknown address
  // gets no mail), and a missing variable is reported by runMain with exit code 1.
  "cli-reset": async (script, env) => {
    const configured = {
      ...env,
      USERHARBOR_SQLITE_FILENAME: "app.db",
      USERHARBOR_SMTP_HOST: "127.0.0.1",
      USERHARBOR_SMTP_FROM: "no-reply@acme.example"
    }
    const command = start(script, configured, undefined, ["reset-password", "nobody@example.com"])
    const code = await command.exited
    check(code === 0, `reset-password: expected exit code 0, got ${code}:\n${command.output()}`)
    check(command.output().includes("If the account exists"), `reset-password printed:\n${command.output()}`)
    const { USERHARBOR_SMTP_HOST: _host, ...unconfigured } = configured
    const broken = start(script, unconfigured, undefined, ["reset-password", "nobody@example.com"])
    const brokenCode = await broken.exited
    check(brokenCode === 1, `without USERHARBOR_SMTP_HOST: expected exit code 1, got ${brokenCode}`)
    check(broken.output().includes("USERHARBOR_SMTP_HOST"), `the error names no variable:\n${broken.output()}`)
  },
  // docs/integration.md's Express login handler: a malformed body, a body of the wrong shape, seven wrong
  // passwords (five answered 401, then 429 with Retry-After), and the process must still be serving; SIGTERM
  // shuts it down cleanly. Then a failed start-up (SQLite file in a missing directory) must exit 1 with a
  // message, not an unhandled rejection.
  "express-login": async (script, env) => {
    const port = await freePort()
    const directory = mkdtempSync(join(tmpdir(), "userharbor-docs-"))
    const filename = join(directory, "app.db")
    await seedVerifiedUser(filename, env.USERHARBOR_SECRET_KEY ?? "", jane)
    const server = start(script, { ...env, PORT: String(port), USERHARBOR_SQLITE_FILENAME: filename }, directory)
    let alive = true
    void server.exited.then(() => alive = false)
    const url = `http://127.0.0.1:${port}/login`
    const post = (body: string) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body })
    try {
      for (let attempt = 0;; attempt++) {
        check(alive, `the server exited before listening:\n${server.output()}`)
        const ready = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)
        if (ready) break
        check(attempt < 600, "the server did not listen within 60 s")
        await sleep(100)
      }
      const malformed = await post("{\"email\": ")
      check(malformed.status === 400, `malformed JSON: expected 400, got ${malformed.status}`)
      const wrongShape = await post(JSON.stringify({ email: 42 }))
      check(wrongShape.status === 400, `wrong body shape: expected 400, got ${wrongShape.status}`)
      const ok = await post(JSON.stringify({ email: jane.email, password: jane.password }))
      const cookie = ok.headers.get("set-cookie") ?? ""
      check(ok.status === 204, `the right password: expected 204, got ${ok.status}`)
      check(
        /^__Host-session=[\w-]{20,};/.test(cookie) && /HttpOnly/i.test(cookie) && /SameSite=Lax/i.test(cookie),
        `the session cookie: ${cookie.replace(/=[^;]*/, "=<token>")}`
      )
      const statuses: Array<number> = []
      let retryAfter: string | null = null
      for (let i = 0; i < 7; i++) {
        const response = await post(JSON.stringify({ email: jane.email, password: `wrong guess ${i}` }))
        statuses.push(response.status)
        const body: unknown = await response.json()
        check(
          typeof body === "object" && body !== null && "_tag" in body,
          `login ${i + 1}: expected a JSON error body`
        )
        if (response.status === 429) retryAfter = response.headers.get("retry-after")
      }
      check(
        statuses.join(",") === "401,401,401,401,401,429,429",
        `seven wrong logins: expected 401 x5 then 429 x2, got ${statuses.join(",")}`
      )
      check(retryAfter !== null && Number(retryAfter) > 0, `429 without a positive Retry-After (${retryAfter})`)
      const locked = await post(JSON.stringify({ email: jane.email, password: jane.password }))
      check(locked.status === 429, `the right password while locked: expected 429, got ${locked.status}`)
      check(alive, "the server died during the requests")
      server.kill("SIGTERM")
      const code = await server.exited
      check(code === 0, `SIGTERM: expected exit code 0, got ${code}`)
    } catch (error) {
      server.kill("SIGKILL")
      await server.exited
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- output ---\n${server.output()}`)
    }
    const broken = start(script, {
      ...env,
      PORT: String(await freePort()),
      USERHARBOR_SQLITE_FILENAME: join("missing-directory", "app.db")
    })
    const timeout = setTimeout(() => broken.kill("SIGKILL"), 60_000)
    const code = await broken.exited
    clearTimeout(timeout)
    const output = broken.output()
    check(code === 1, `start-up failure: expected exit code 1, got ${code}:\n${output}`)
    check(
      !/unhandled|triggerUncaughtException/i.test(output),
      `start-up failure became an unhandled rejection:\n${output}`
    )
  }
}

const main = async (): Promise<void> => {
  const blocks = docFiles().flatMap(extract)
  for (const block of blocks) {
    if (block.run?.driver !== undefined && drivers[block.run.driver] === undefined) {
      problems.push(`${block.file}:${block.line}: unknown driver "${block.run.driver}"`)
    }
    if (block.isTest && (block.run?.driver !== undefined || block.run?.harness !== undefined)) {
      problems.push(`${block.file}:${block.line}: a test block takes no driver or harness`)
    }
    if (block.run?.harness !== undefined && !existsSync(harnessPath(block.run.harness))) {
      problems.push(`${block.file}:${block.line}: no harness ${relative(root, harnessPath(block.run.harness))}`)
    }
  }
  if (problems.length > 0) throw new Error(problems.join("\n"))

  console.log("== npm run build")
  execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" })

  rmSync(scratch, { recursive: true, force: true })
  mkdirSync(join(scratch, "src"), { recursive: true })
  for (const block of blocks) {
    const header = `// ${block.file}:${block.line} (extracted by scripts/docs-check.ts)\n`
    // `export {}` keeps a block without imports a module, so blocks never share a global scope.
    writeFileSync(
      join(scratch, "src", `${block.name}${block.isTest ? ".test" : ""}.ts`),
      header + block.code + "export {}\n"
    )
    if (block.run?.harness !== undefined) {
      const harness = readFileSync(harnessPath(block.run.harness), "utf8").replaceAll(
        "./BLOCK.js",
        `./${block.name}.js`
      )
      writeFileSync(join(scratch, "src", `${block.name}.harness.ts`), harness)
    }
  }
  writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["src"] }, null, 2))

  console.log(`== tsc: ${blocks.length} blocks from ${docFiles().length} files`)
  try {
    npx(["tsc", "-p", relative(root, join(scratch, "tsconfig.json"))])
  } catch {
    throw new Error("the doc blocks do not compile (paths above are .scratch/docs/src/<file>-L<line>.ts)")
  }

  const secretKey = randomBytes(32).toString("base64url")
  let ran = 0
  const skipped: Array<string> = []
  const failures: Array<string> = []
  const cleanups: Array<() => Promise<void>> = []
  const tests = blocks.filter((block) => block.isTest)
  if (tests.length > 0) {
    console.log(`== vitest: ${tests.map((block) => `${block.file}:${block.line}`).join(", ")}`)
    writeFileSync(
      join(scratch, "vitest.config.mjs"),
      "export default { test: { include: [\"out/**/*.test.js\"], testTimeout: 60000, pool: \"forks\" } }\n"
    )
    try {
      npx(["vitest", "run", "--config", "vitest.config.mjs"], { cwd: scratch })
      ran += tests.length
    } catch {
      failures.push("the test blocks failed under vitest (see above)")
    }
  }

  for (const block of blocks) {
    if (block.run === undefined || block.isTest) continue
    const where = `${block.file}:${block.line}`
    const env: NodeJS.ProcessEnv = { ...process.env, USERHARBOR_SECRET_KEY: secretKey }
    if (block.run.database !== undefined) {
      const variable = block.run.database === "pg" ? "USERHARBOR_TEST_PG_URL" : "USERHARBOR_TEST_MYSQL_URL"
      const url = process.env[variable]
      if (url === undefined || url === "") {
        skipped.push(`${where} (needs ${block.run.database}: set ${variable})`)
        continue
      }
      const scratchDatabase = await privateDatabase(block.run.database, url)
      env.USERHARBOR_DATABASE_URL = scratchDatabase.url
      cleanups.push(scratchDatabase.drop)
    }
    const script = join(scratch, "out", `${block.name}${block.run.harness === undefined ? "" : ".harness"}.js`)
    const how = block.run.driver !== undefined
      ? ` with driver ${block.run.driver}`
      : block.run.harness !== undefined
      ? ` through scripts/docs-harness/${block.run.harness}.ts`
      : ""
    console.log(`== run ${where}${how}`)
    const blockStarted = performance.now()
    const driver = block.run.driver === undefined ? undefined : drivers[block.run.driver]
    if (driver !== undefined) {
      try {
        await driver(script, env)
        ran++
      } catch (error) {
        failures.push(`${where}: ${error instanceof Error ? error.message : String(error)}`)
      }
    } else {
      const started = start(script, env)
      const code = await started.exited
      if (code === 0) ran++
      else failures.push(`${where}: exit code ${code}\n${started.output()}`)
    }
    console.log(`   ${((performance.now() - blockStarted) / 1000).toFixed(1)} s`)
  }

  for (const cleanup of cleanups) await cleanup()
  for (const notice of skipped) console.log(`NOTICE skipped ${notice}`)
  // CI must exercise every backend, as .ci/run demands of the test suites.
  if (process.env.CI === "true" && skipped.length > 0) {
    failures.push(`CI=true, but ${skipped.length} blocks were skipped`)
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const marked = blocks.filter((block) => block.run !== undefined || block.isTest).length
  console.log(
    `docs:check: ${blocks.length} blocks compiled, ${ran} of ${marked} runnable blocks run` +
      `${skipped.length > 0 ? ` (${skipped.length} skipped)` : ""}, ${failures.length} failed, in ${seconds} s`
  )
  if (failures.length > 0) throw new Error(failures.join("\n\n"))
}

main().catch((error: unknown) => {
  console.error(`docs:check failed:\n${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})
