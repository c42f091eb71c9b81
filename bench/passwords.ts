/**
 * Scenarios 3 and 4: login and register against raw argon2 (same parameters) plus the same statements on
 * better-sqlite3, and 100 concurrent logins against sequential ones with the event loop's delay watched.
 */
import * as argon2 from "argon2"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { createHmac, randomBytes } from "node:crypto"
import { copyFileSync, rmSync } from "node:fs"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { argon2Options, emailFor, hashToken, password, seedSqlite, sqliteHarbor } from "./fixtures.js"
import { alternateThroughput, median, ratio, round, throughput } from "./stats.js"

let copies = 0
/** A private copy of the seeded 10,000-session file: logins and registrations add rows. */
export const scratchCopy = async (): Promise<{ readonly filename: string; readonly remove: () => void }> => {
  const source = await seedSqlite(10_000)
  const filename = `${source}.${process.pid}.${copies++}.db`
  copyFileSync(source, filename)
  const remove = () => ["", "-wal", "-shm"].forEach((suffix) => rmSync(filename + suffix, { force: true }))
  return { filename, remove }
}

const users = 1000

/** The raw baseline's login and register: what a hand-written app would do, on its own connection. */
const rawAccounts = (filename: string) => {
  const db = new Database(filename)
  db.pragma("journal_mode = WAL")
  db.pragma("busy_timeout = 5000")
  const byEmail = db.prepare("SELECT id, password_hash, verified FROM userharbor_users WHERE email_key = ?")
  const insertSession = db.prepare(`INSERT INTO userharbor_sessions (token_hash, id, user_id, created_at,
    expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)`)
  const insertUser = db.prepare(`INSERT INTO userharbor_users (id, username, username_key, email, email_key,
    password_hash, password_version, verified, created_at) VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?)`)
  const insertToken = db.prepare(`INSERT INTO userharbor_tokens (token_hash, purpose, user_id, created_at,
    expires_at) VALUES (?, 'verify-email', ?, ?, ?)`)
  const registerRows = db.transaction((id: string, name: string, email: string, hash: string, token: string) => {
    const now = Date.now()
    insertUser.run(id, name, name, email, email, hash, now)
    insertToken.run(hashToken(token), id, now, now + 86_400_000)
  })
  const login = async (email: string, attempt: string) => {
    const row: unknown = byEmail.get(email)
    if (typeof row !== "object" || row === null || !("password_hash" in row) || !("id" in row)) return false
    if (typeof row.password_hash !== "string" || !(await argon2.verify(row.password_hash, attempt))) return false
    const token = randomBytes(32).toString("base64url")
    const now = Date.now()
    insertSession.run(hashToken(token), randomBytes(16).toString("hex"), row.id, now, now + 30 * 86_400_000, now)
    return true
  }
  const register = async (name: string, email: string) => {
    const hash = await argon2.hash(password, { type: argon2.argon2id, ...argon2Options })
    registerRows(randomBytes(16).toString("hex"), name, email, hash, randomBytes(32).toString("base64url"))
  }
  return { login, register, close: () => db.close() }
}

const unique = (i: number, side: string) =>
  `${side}${i}x${createHmac("sha256", "names").update(`${process.pid}${i}`).digest("hex").slice(0, 8)}`

export const loginAndRegister = async (options: { readonly rounds: number; readonly perRound: number }) => {
  const { filename, remove } = await scratchCopy()
  const raw = rawAccounts(filename)
  const { harbor, runtime } = await sqliteHarbor(filename)
  try {
    const login = await alternateThroughput([
      { name: "raw", run: (i) => raw.login(emailFor(i % users), password) },
      { name: "library", run: (i) => runtime.runPromise(harbor.login({ email: emailFor(i % users), password })) }
    ], { rounds: options.rounds, total: options.perRound, concurrency: 1, warmup: 4 })
    const register = await alternateThroughput([
      { name: "raw", run: (i) => raw.register(unique(i, "r"), `${unique(i, "r")}@bench.example`) },
      {
        name: "library",
        run: (i) =>
          runtime.runPromise(
            harbor.register({ username: unique(i, "l"), email: `${unique(i, "l")}@bench.example`, password })
          )
      }
    ], { rounds: options.rounds, total: options.perRound, concurrency: 1, warmup: 4 })
    const opsPerSec = (r: typeof login, name: string) => r[name]?.medianOpsPerSec ?? Number.NaN
    return {
      login: { ...login, ratio: ratio(opsPerSec(login, "library"), opsPerSec(login, "raw")) },
      register: { ...register, ratio: ratio(opsPerSec(register, "library"), opsPerSec(register, "raw")) }
    }
  } finally {
    await runtime.dispose()
    raw.close()
    remove()
  }
}

/** Scenario 4: 100 concurrent logins against sequential ones, and the event loop's p99 delay while they run. */
export const concurrentLogins = async (options: { readonly rounds: number; readonly sequential: number }) => {
  const { filename, remove } = await scratchCopy()
  // Throughput is the question here, so the queue admits all 100 (the default bound would refuse 32 with `Busy`).
  const { harbor, runtime } = await sqliteHarbor(filename, { limits: { maxQueue: 128 } })
  const login = (i: number) => runtime.runPromise(harbor.login({ email: emailFor(i % users), password }))
  const raw = rawAccounts(filename)
  try {
    await throughput(4, 4, login)
    const sequential: Array<number> = []
    const concurrent: Array<number> = []
    const delaysP99Ms: Array<number> = []
    for (let r = 0; r < options.rounds; r++) {
      sequential.push(await throughput(options.sequential, 1, login))
      const monitor = monitorEventLoopDelay({ resolution: 5 })
      monitor.enable()
      concurrent.push(await throughput(100, 100, login))
      monitor.disable()
      delaysP99Ms.push(round(monitor.percentile(99) / 1e6, 2))
    }
    // The same 100 concurrent logins hand-written: the delay argon2's threads alone cause on this machine.
    const rawMonitor = monitorEventLoopDelay({ resolution: 5 })
    rawMonitor.enable()
    const rawConcurrent = await throughput(100, 100, (i) => raw.login(emailFor(i % users), password))
    rawMonitor.disable()
    const seq = median(sequential)
    const conc = median(concurrent)
    return {
      sequentialOpsPerSec: sequential,
      concurrentOpsPerSec: concurrent,
      eventLoopDelayP99Ms: delaysP99Ms,
      ratio: ratio(conc, seq),
      maxDelayP99Ms: Math.max(...delaysP99Ms),
      raw: { concurrentOpsPerSec: rawConcurrent, eventLoopDelayP99Ms: round(rawMonitor.percentile(99) / 1e6, 2) },
      uvThreadpoolSize: process.env["UV_THREADPOOL_SIZE"] ?? "4 (default)"
    }
  } finally {
    await runtime.dispose()
    raw.close()
    remove()
  }
}

/** Scenario 5 (run in a child process per configuration): `n` concurrent login attempts, then the peak RSS. */
export const loginAttempts = async (n: number) => {
  const { filename, remove } = await scratchCopy()
  const { harbor, runtime } = await sqliteHarbor(filename)
  try {
    const before = process.resourceUsage().maxRSS
    const outcomes = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          runtime.runPromise(Effect.match(harbor.login({ email: emailFor(i % users), password }), {
            onFailure: (error) => error._tag,
            onSuccess: () => "ok"
          }))
      )
    )
    const counts: Record<string, number> = {}
    for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1
    return { attempts: n, maxRssKbBefore: before, maxRssKb: process.resourceUsage().maxRSS, outcomes: counts }
  } finally {
    await runtime.dispose()
    remove()
  }
}
