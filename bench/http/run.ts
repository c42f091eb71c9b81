/**
 * `npm run bench:http [-- <contender names>] [-- profile <contender>]`: the HTTP load benchmark of issue 16
 * (docs/performance.md, "HTTP load"). Each contender is its own process on loopback (`bench/http/server.ts`),
 * driven by `wrk` (one thread, 16 connections, a Lua script cycling through 1,000 session cookies) for a fixed
 * duration after a warm-up, contenders alternating round by round (order reversed every other round); the table
 * gives the median req/s over the rounds, the median p50 and p99 latency, and the ratio to the bare `HttpApi`
 * endpoint.
 *
 * Two instances: two processes of the app on the same database, each driven by its own `wrk` with 8 of the 16
 * connections (no proxy: on 2 cores a proxy's CPU time would be charged to the app); req/s is their sum, p50 the
 * mean of the two, p99 the larger.
 *
 * `profile <contender>` runs that one contender under `--cpu-prof` for one round and prints where its CPU time
 * goes, by function (self time) and by module.
 *
 * Settings: `BENCH_HTTP_SECONDS` (per round, default 5), `BENCH_HTTP_ROUNDS` (default 3), `BENCH_HTTP_WARMUP`
 * (seconds, default 3), `BENCH_HTTP_PORT` (the first port, default 38100; contenders are 10 ports apart),
 * `USERHARBOR_BENCH_PG_URL` (default postgres://postgres@127.0.0.1:5432/test; the bench works in a schema of its
 * own, dropped at the end).
 */
import { Effect, Layer, Redacted } from "effect"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { copyFileSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { promisify } from "node:util"
import pg from "pg"
import * as PgUserStore from "../../src/PgUserStore.js"
import { dataDir, seedSqlite, tokenFor } from "../fixtures.js"
import { pgUrl, seed } from "../postgres.js"
import { median, ratio } from "../stats.js"

const seconds = Number(process.env["BENCH_HTTP_SECONDS"] ?? "5")
const rounds = Number(process.env["BENCH_HTTP_ROUNDS"] ?? "3")
const warmup = Number(process.env["BENCH_HTTP_WARMUP"] ?? "3")
// Contenders listen from here on, 10 ports apart.
const firstPort = Number(process.env["BENCH_HTTP_PORT"] ?? "38100")
const resultsDir = "bench/results/http"
const sessions = 10_000
const activeSessions = 1000
const path = "/api/accounts/me"

interface Contender {
  readonly name: string
  readonly label: string
  readonly kind: "raw" | "raw-pg" | "bare" | "app"
  readonly db: "sqlite" | "pg" | "none"
  readonly cache?: boolean
  readonly logAll?: boolean
  readonly instances: 1 | 2
}

const all: ReadonlyArray<Contender> = [
  { name: "raw", label: "node:http + cookie + HMAC + 1 query (SQLite)", kind: "raw", db: "sqlite", instances: 1 },
  { name: "bare", label: "bare HttpApi endpoint, no auth", kind: "bare", db: "none", instances: 1 },
  { name: "app-sqlite", label: "app GET /api/accounts/me, SQLite", kind: "app", db: "sqlite", instances: 1 },
  {
    name: "app-sqlite-cache",
    label: "app /me, SQLite + SessionCache",
    kind: "app",
    db: "sqlite",
    cache: true,
    instances: 1
  },
  {
    name: "app-sqlite-logall",
    label: "same, a log line per request (logRequests: \"all\", the earlier default)",
    kind: "app",
    db: "sqlite",
    logAll: true,
    instances: 1
  },
  { name: "raw-pg", label: "node:http + cookie + HMAC + 1 query (PostgreSQL)", kind: "raw-pg", db: "pg", instances: 1 },
  { name: "app-pg", label: "app /me, PostgreSQL", kind: "app", db: "pg", instances: 1 },
  {
    name: "app-pg-cache",
    label: "app /me, PostgreSQL + SessionCache",
    kind: "app",
    db: "pg",
    cache: true,
    instances: 1
  },
  { name: "app-pg-x2", label: "app /me, PostgreSQL, 2 instances", kind: "app", db: "pg", instances: 2 },
  {
    name: "app-pg-cache-x2",
    label: "app /me, PostgreSQL + SessionCache, 2 instances",
    kind: "app",
    db: "pg",
    cache: true,
    instances: 2
  }
]

const load = () => loadavg().map((x) => x.toFixed(1)).join(" ")

// The cookies wrk sends: 1,000 sessions, as the cache scenarios of `npm run bench` have active.
const writeScript = () => {
  const tokens = Array.from({ length: activeSessions }, (_, i) => `"${tokenFor((i * 7919) % sessions)}"`)
  const file = `${resultsDir}/sessions.lua`
  writeFileSync(
    file,
    `local tokens = { ${tokens.join(", ")} }
local n = #tokens
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", nil, { ["Cookie"] = "__Host-session=" .. tokens[(i % n) + 1] }, nil)
end
`
  )
  return file
}

interface Wrk {
  readonly rps: number
  readonly requests: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly errors: number
}

const toMs = (value: string): number => {
  const match = /^([\d.]+)(us|ms|s)$/.exec(value)
  if (match === null) return Number.NaN
  const n = Number(match[1])
  return match[2] === "us" ? n / 1000 : match[2] === "s" ? n * 1000 : n
}

const wrk = async (port: number, connections: number, duration: number, script: string): Promise<Wrk> => {
  const { stdout } = await promisify(execFile)("wrk", [
    "-t1",
    `-c${connections}`,
    `-d${duration}s`,
    "--latency",
    "-s",
    script,
    `http://127.0.0.1:${port}${path}`
  ])
  const field = (re: RegExp) => re.exec(stdout)?.[1] ?? ""
  const errors = Number(field(/Non-2xx or 3xx responses: (\d+)/) || "0") +
    [...stdout.matchAll(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/g)]
      .flatMap((m) => m.slice(1).map(Number)).reduce((a, b) => a + b, 0)
  return {
    rps: Number(field(/Requests\/sec:\s+([\d.]+)/)),
    requests: Number(field(/(\d+) requests in/)),
    p50Ms: toMs(field(/\s50%\s+(\S+)/)),
    p99Ms: toMs(field(/\s99%\s+(\S+)/)),
    errors
  }
}

interface Running {
  readonly contender: Contender
  readonly ports: ReadonlyArray<number>
  readonly processes: ReadonlyArray<ChildProcess>
}

const start = async (
  contender: Contender,
  firstPort: number,
  env: { readonly sqlite: string; readonly pg: string },
  nodeArgs: ReadonlyArray<string> = []
): Promise<Running> => {
  const ports = Array.from({ length: contender.instances }, (_, k) => firstPort + k)
  const processes = ports.map((port) => {
    const log = openSync(`${resultsDir}/${contender.name}-${port}.log`, "w")
    return spawn(process.execPath, [...nodeArgs, "--import", "tsx", "bench/http/server.ts", contender.kind], {
      env: {
        ...process.env,
        PORT: String(port),
        BENCH_SQLITE: env.sqlite,
        BENCH_PG_URL: contender.db === "pg" ? env.pg : "",
        BENCH_CACHE: contender.cache === true ? "1" : "0",
        BENCH_LOG_ALL: contender.logAll === true ? "1" : "0"
      },
      stdio: ["ignore", log, log]
    })
  })
  // Ready when a signed-in request answers 200 and one without a cookie 401 (the bare endpoint: 200 for both).
  const cookie = `__Host-session=${tokenFor(0)}`
  for (const port of ports) {
    const deadline = Date.now() + 120_000
    for (;;) {
      // With a timeout: the server listens before the app is built, and a request that arrives then is never
      // answered.
      const ok = await fetch(`http://127.0.0.1:${port}${path}`, {
        headers: { cookie },
        signal: AbortSignal.timeout(1000)
      })
        .then((r) => r.status, () => 0)
      if (ok === 200) break
      if (ok !== 0) throw new Error(`${contender.name} on ${port} answered ${ok}`)
      if (Date.now() > deadline) throw new Error(`${contender.name} on ${port} did not start`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    const anonymous = await fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status)
    if (anonymous !== (contender.kind === "bare" ? 200 : 401)) {
      throw new Error(`${contender.name} answered ${anonymous} without a cookie`)
    }
  }
  return { contender, ports, processes }
}

const stop = async (running: Running) => {
  await Promise.all(running.processes.map((child) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once("exit", () => resolve())
      child.kill("SIGINT")
    })
  ))
}

// CPU time (user + system) a process has used, in ms (`/proc/<pid>/stat`, clock ticks of 10 ms).
const cpuMs = (child: ChildProcess): number => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 10
}

interface Round extends Wrk {
  /** The server processes' CPU time per request, in µs: less sensitive to the machine's load than req/s. */
  readonly cpuUsPerRequest: number
}

// One round of one contender: 16 connections, split evenly over its instances.
const drive = async (running: Running, duration: number, script: string): Promise<Round> => {
  const cpuBefore = running.processes.reduce((sum, child) => sum + cpuMs(child), 0)
  const results = await Promise.all(
    running.ports.map((port) => wrk(port, 16 / running.ports.length, duration, script))
  )
  const cpu = running.processes.reduce((sum, child) => sum + cpuMs(child), 0) - cpuBefore
  const requests = results.reduce((sum, r) => sum + r.requests, 0)
  return {
    cpuUsPerRequest: (cpu * 1000) / requests,
    requests,
    rps: results.reduce((sum, r) => sum + r.rps, 0),
    p50Ms: results.reduce((sum, r) => sum + r.p50Ms, 0) / results.length,
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    errors: results.reduce((sum, r) => sum + r.errors, 0)
  }
}

const withDatabases = async <A>(
  needPg: boolean,
  body: (env: { readonly sqlite: string; readonly pg: string }) => Promise<A>
): Promise<A> => {
  // A copy of the 10,000-session fixture: the app writes to it (renewals, the outbox worker).
  const fixture = await seedSqlite(sessions)
  const sqlite = `${dataDir}/http-bench.db`
  for (const suffix of ["", "-wal", "-shm"]) rmSync(sqlite + suffix, { force: true })
  copyFileSync(fixture, sqlite)
  if (!needPg) return body({ sqlite, pg: "" })
  const schema = `userharbor_httpbench_${randomBytes(4).toString("hex")}`
  const admin = new pg.Pool({ connectionString: pgUrl, max: 1 })
  await admin.query(`CREATE SCHEMA ${schema}`)
  try {
    const scoped = new URL(pgUrl)
    scoped.searchParams.set("options", `-c search_path=${schema}`)
    await Effect.runPromise(Effect.scoped(Layer.build(PgUserStore.layer({ url: Redacted.make(scoped.toString()) }))))
    const pool = new pg.Pool({ connectionString: scoped.toString(), max: 2 })
    await seed(pool, sessions)
    await pool.end()
    return await body({ sqlite, pg: scoped.toString() })
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    await admin.end()
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits })

const benchmark = async (selected: ReadonlyArray<Contender>) => {
  const script = writeScript()
  const loadBefore = load()
  const rows = await withDatabases(selected.some((c) => c.db === "pg"), async (env) => {
    const running: Array<Running> = []
    try {
      let port = firstPort
      for (const contender of selected) {
        running.push(await start(contender, port, env))
        port += 10
      }
      for (const r of running) await drive(r, warmup, script)
      const samples = new Map<string, Array<Round>>(selected.map((c) => [c.name, []]))
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? running : [...running].reverse()
        for (const r of order) {
          const result = await drive(r, seconds, script)
          samples.get(r.contender.name)?.push(result)
          console.log(
            `round ${round + 1} ${r.contender.name}: ${fmt(result.rps)} req/s, ` +
              `${fmt(result.cpuUsPerRequest)} µs CPU/req` +
              `${result.errors > 0 ? ` (${result.errors} errors)` : ""} (load ${load()})`
          )
        }
      }
      return selected.map((contender) => {
        const s = samples.get(contender.name) ?? []
        return {
          contender,
          rps: median(s.map((x) => x.rps)),
          rounds: s.map((x) => Math.round(x.rps)),
          p50Ms: median(s.map((x) => x.p50Ms)),
          p99Ms: median(s.map((x) => x.p99Ms)),
          cpuUs: median(s.map((x) => x.cpuUsPerRequest)),
          errors: s.reduce((sum, x) => sum + x.errors, 0)
        }
      })
    } finally {
      for (const r of running) await stop(r)
    }
  })
  const bare = rows.find((r) => r.contender.name === "bare")
  console.log(
    `\nwrk -t1 -c16, ${rounds} rounds of ${seconds} s after ${warmup} s warm-up; load average ` +
      `${loadBefore} before, ${load()} after (1, 5, 15 min)\n`
  )
  console.log("| Contender | req/s (median) | rounds | p50 | p99 | x bare (req/s) | server CPU/req | x bare (CPU) |")
  console.log("|---|---|---|---|---|---|---|---|")
  for (const r of rows) {
    console.log(
      `| ${r.contender.label} | ${fmt(r.rps)} | ${r.rounds.map((x) => fmt(x)).join(", ")} | ` +
        `${r.p50Ms.toFixed(2)} ms | ${r.p99Ms.toFixed(2)} ms | ` +
        `${bare === undefined ? "-" : `${ratio(r.rps, bare.rps)}x`}${r.errors > 0 ? ` (${r.errors} errors!)` : ""} | ` +
        `${fmt(r.cpuUs)} µs | ${bare === undefined ? "-" : `${ratio(bare.cpuUs, r.cpuUs)}x`} |`
    )
  }
  writeFileSync(`${resultsDir}/results.json`, JSON.stringify({ at: new Date().toISOString(), rows }, null, 2))
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}

const shortUrl = (url: string) =>
  url.replace(/^.*node_modules\//, "").replace(/^.*\/wt\/[^/]+\//, "").replace(/^file:\/\//, "")

// Self time by function and by module (package or file of ours), the part in the Effect runtime included.
const summarize = (file: string) => {
  const profile: { readonly nodes: ReadonlyArray<ProfileNode>; readonly samples: ReadonlyArray<number> } = JSON
    .parse(readFileSync(file, "utf8"))
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const byFunction = new Map<string, number>()
  const byModule = new Map<string, number>()
  for (const id of profile.samples) {
    const frame = byId.get(id)?.callFrame
    const url = frame === undefined ? "?" : shortUrl(frame.url)
    const fn = frame === undefined ? "?" : `${frame.functionName || "(anonymous)"} ${url}:${frame.lineNumber + 1}`
    const module = url === ""
      ? `(${frame?.functionName ?? "?"})`
      : url.replace(/^(@effect\/[^/]+|[^@/][^/]*)\/.*/, "$1")
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + 1)
    byModule.set(module, (byModule.get(module) ?? 0) + 1)
  }
  const total = profile.samples.length
  const print = (title: string, map: Map<string, number>, top: number) => {
    console.log(`\n${title}`)
    for (const [key, n] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${((n / total) * 100).toFixed(1).padStart(5)}%  ${key}`)
    }
  }
  print("self time by module", byModule, 25)
  print("self time by function", byFunction, 45)
}

const profile = async (name: string) => {
  const contender = all.find((c) => c.name === name)
  if (contender === undefined) throw new Error(`unknown contender ${name}`)
  const script = writeScript()
  const dir = `${resultsDir}/prof-${name}`
  rmSync(dir, { recursive: true, force: true })
  await withDatabases(contender.db === "pg", async (env) => {
    const running = await start({ ...contender, instances: 1 }, firstPort, env, ["--cpu-prof", `--cpu-prof-dir=${dir}`])
    try {
      await drive(running, warmup, script)
      const result = await drive(running, seconds, script)
      console.log(`${name} under --cpu-prof: ${fmt(result.rps)} req/s (load ${load()})`)
    } finally {
      await stop(running)
    }
  })
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))
  for (const f of files) summarize(`${dir}/${f}`)
}

const main = async () => {
  mkdirSync(resultsDir, { recursive: true })
  const args = process.argv.slice(2)
  if (args[0] === "profile") return profile(args[1] ?? "app-sqlite")
  if (args[0] === "summary") return summarize(args[1] ?? "")
  const selected = args.length === 0 ? all : all.filter((c) => args.includes(c.name))
  if (!selected.some((c) => c.name === "bare")) throw new Error("the table's ratios need the bare contender")
  await benchmark(selected)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
