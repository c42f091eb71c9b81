/**
 * Faults under load, shared by `features/FaultsUnderLoad.test.ts` (which asserts generous bounds) and
 * `bench/faults.ts` (which prints the figures): app instances serving a closed-loop mix of session checks, logins
 * and registrations while the test stops their database server, kills one of them, or stops the Redis server of
 * their counters. Every request is recorded with its instance, operation, start, end and outcome. The instances are
 * library-level processes driven over IPC (`instances.ts`, `processes` below) or, through `httpFaults.ts`, the
 * example HTTP app: the scenarios and their analysis are the same.
 */
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Fiber, Redacted, type Scope } from "effect"
import { randomBytes } from "node:crypto"
import { type Instance, type Outcome, startInstances, tally } from "./instances.js"
import { privateMariadb } from "./privateMariadb.js"
import { privatePostgres } from "./privatePostgres.js"
import { privateRedis } from "./privateRedis.js"

/** The operations of the mix: two session checks to each login and each registration. */
export const mix = ["check", "login", "check", "register"] as const
export type Op = typeof mix[number]

/** One request: which instance served it, what it was, when (wall-clock ms) and what it answered. */
export interface Sample {
  readonly instance: number
  readonly op: Op
  readonly start: number
  readonly end: number
  /** Whether it succeeded (an IPC answer `"ok"`, an HTTP status 2xx). */
  readonly ok: boolean
  /** What it answered: the failure's tag, or for HTTP the status and the error body's tag (`"503 StoreError"`). */
  readonly tag: string
  /** The address a registration asked for. */
  readonly email?: string
}

/** Wall-clock milliseconds, sub-millisecond, comparable with the instances' own clocks. */
export const now = (): number => performance.timeOrigin + performance.now()

/** A running load; `stop` ends every client after its current request and returns what was recorded. */
export interface Load {
  readonly stop: Effect.Effect<ReadonlyArray<Sample>>
}

/** The password of every registration of the load. */
export const password = "fault-tolerant-passphrase-9"

/**
 * Registers 3 verified accounts on the first instance, logs each in on every instance (the sessions to check),
 * then starts `clients` closed-loop clients per instance, each cycling through `mix`. After a failure a client
 * pauses 5 ms, so that a dead server does not turn the clients into a busy loop.
 */
export const startLoad = (
  instances: ReadonlyArray<Instance>,
  clients: number
): Effect.Effect<Load, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const run = randomBytes(4).toString("hex")
    const accounts = [0, 1, 2].map((i) => ({ username: `held${run}${i}`, email: `held-${run}-${i}@example.com` }))
    const [first] = instances
    if (first === undefined) return yield* Effect.fail(new Error("no instance"))
    for (const account of accounts) yield* first.call({ op: "register", ...account, password })
    const sessions = yield* Effect.forEach(instances, (instance) =>
      Effect.forEach(accounts, (account) =>
        Effect.map(instance.call({ op: "login", email: account.email, password }), String)))
    const samples: Array<Sample> = []
    let running = true
    let registered = 0
    const client = (index: number, offset: number) =>
      Effect.gen(function*() {
        const instance = instances[index]
        const tokens = sessions[index] ?? []
        for (let step = offset; running; step++) {
          const op = mix[step % mix.length] ?? "check"
          const account = accounts[step % accounts.length] ?? accounts[0]!
          const n = registered++
          const email = `load-${run}-${n}@example.com`
          const start = now()
          const outcome: Outcome = instance === undefined
            ? { tag: "Exited", error: "no instance" }
            : yield* instance.attempt(
              op === "check"
                ? { op, token: tokens[step % tokens.length] ?? "" }
                : op === "login"
                ? { op, email: account.email, password }
                : { op, username: `load${run}${n}`, email, password, verify: false }
            )
          samples.push({
            instance: index,
            op,
            start,
            end: now(),
            ok: outcome.tag === "ok",
            tag: outcome.tag,
            ...(op === "register" ? { email } : {})
          })
          if (outcome.tag !== "ok") {
            yield* Effect.sleep("5 millis")
          }
        }
      })
    const fibers = yield* Effect.forEach(
      instances.flatMap((_, index) =>
        Array.from({ length: clients }, (_, c) =>
          client(index, c))
      ),
      (loop) => Effect.forkScoped(loop)
    )
    return {
      stop: Effect.suspend(() => {
        running = false
        return Effect.as(Fiber.joinAll(fibers), samples)
      })
    }
  })

/** Each operation's outcomes, e.g. `{ check: { ok: 120, StoreError: 30 } }`. */
export const byOp = (samples: ReadonlyArray<Sample>): Record<string, Record<string, number>> =>
  Object.fromEntries(
    mix.filter((op, i) => mix.indexOf(op) === i).map((op) => [
      op,
      tally(samples.filter((s) => s.op === op).map((s): Outcome => ({ tag: s.tag, error: "" })))
    ])
  )

/** The `q` quantile of `sorted` (ascending), 0 when empty. */
const percentile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted[Math.floor(q * (sorted.length - 1))] ?? 0

/** What a database server outage did to the requests. */
export interface OutageReport {
  /** How long the server was down (ms), from the stop being issued to its start being issued. */
  readonly downMs: number
  /** How long its start took (crash recovery included), until it was seen accepting connections (ms). */
  readonly startMs: number
  /** Outcomes of the requests started while the server was down (after the first `settleMs`). */
  readonly during: Record<string, Record<string, number>>
  /** The longest request in flight at any moment of the outage (ms). */
  readonly longestDuring: number
  /** The 99th percentile of those requests' times (ms). */
  readonly p99During: number
  /** Per operation: the median and 99th percentile times (ms) of the successes that ended before the stop. */
  readonly before: Record<string, { readonly p50: number; readonly p99: number }>
  /** Per instance and operation: ms from the server's return to the end of the first success started after it. */
  readonly resume: ReadonlyArray<Record<string, number>>
  /** Outcomes of the requests started within `settledAfterMs` of the server's return. */
  readonly returning: Record<string, Record<string, number>>
  /** Outcomes of the requests started `settledAfterMs` after the server's return. */
  readonly after: Record<string, Record<string, number>>
  /** Outcomes of every request of the run. */
  readonly all: Record<string, Record<string, number>>
}

/**
 * Reads the samples of an outage: the stop issued at `downAt`, the start at `startAt`, the server accepting
 * connections by `upAt`. Requests started within `settleMs` of the stop may still be answered by what was in
 * flight or cached, so `during` leaves them out; it ends at `startAt`, since the server may accept connections
 * before `pg_ctl` sees it.
 */
export const outageReport = (
  samples: ReadonlyArray<Sample>,
  window: {
    readonly downAt: number
    readonly startAt: number
    readonly upAt: number
    readonly settleMs: number
    readonly settledAfterMs: number
  }
): OutageReport => {
  const { downAt, settleMs, settledAfterMs, startAt, upAt } = window
  const instances = [...new Set(samples.map((s) => s.instance))].sort()
  const resume = instances.map((instance) =>
    Object.fromEntries(
      [...new Set(mix)].map((op) => {
        const first = samples
          .filter((s) => s.instance === instance && s.op === op && s.ok && s.start >= upAt)
          .reduce((earliest, s) => Math.min(earliest, s.end), Infinity)
        return [op, first - upAt]
      })
    )
  )
  const inFlight = samples
    .filter((s) => s.start < upAt && s.end > downAt)
    .map((s) => s.end - s.start)
    .sort((a, b) => a - b)
  return {
    downMs: startAt - downAt,
    startMs: upAt - startAt,
    during: byOp(samples.filter((s) => s.start >= downAt + settleMs && s.start < startAt)),
    longestDuring: inFlight.at(-1) ?? 0,
    p99During: percentile(inFlight, 0.99),
    before: Object.fromEntries([...new Set(mix)].map((op) => {
      const times = samples.filter((s) => s.op === op && s.ok && s.end < downAt).map((s) => s.end - s.start)
        .sort((a, b) => a - b)
      return [op, { p50: percentile(times, 0.5), p99: percentile(times, 0.99) }]
    })),
    resume,
    returning: byOp(samples.filter((s) => s.start >= upAt && s.start < upAt + settledAfterMs)),
    after: byOp(samples.filter((s) => s.start >= upAt + settledAfterMs)),
    all: byOp(samples)
  }
}

/** What the accounts table holds after a run, against what the registrations answered. */
export interface AccountsCheck {
  /** Registrations that answered success. */
  readonly registered: number
  /** Of those, how many have no account row (must be 0). */
  readonly missing: number
  /** Registrations that failed yet left an account (their commit's outcome was unknown to the caller). */
  readonly failedButStored: number
  /** Unverified accounts without their verification token: a registration half written (must be 0). */
  readonly halfWritten: number
}

/** The database the instances use: its URL and its kind. */
export interface Database {
  readonly url: string
  readonly store: "pg" | "mysql"
}

/** Compares the registrations in `samples` with the tables of `database`. */
export const checkAccounts = (
  database: Database,
  samples: ReadonlyArray<Sample>
): Effect.Effect<AccountsCheck, Error> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const stored = new Set(
      (yield* sql<{ email: string }>`SELECT email FROM userharbor_users`).map((row) => row.email)
    )
    const [half] = yield* sql<{ n: string }>`
      SELECT count(*) AS n FROM userharbor_users u
      WHERE NOT u.verified AND NOT EXISTS (
        SELECT 1 FROM userharbor_tokens t WHERE t.user_id = u.id AND t.purpose = 'verify-email'
      )`
    const registrations = samples.filter((s) => s.op === "register" && s.email !== undefined)
    const succeeded = registrations.filter((s) => s.ok)
    return {
      registered: succeeded.length,
      missing: succeeded.filter((s) => !stored.has(s.email ?? "")).length,
      failedButStored: registrations.filter((s) => !s.ok && stored.has(s.email ?? "")).length,
      halfWritten: Number(half?.n ?? 0)
    }
  }).pipe(
    Effect.provide(
      database.store === "pg"
        ? PgClient.layer({ url: Redacted.make(database.url) })
        : MysqlClient.layer({ url: Redacted.make(database.url) })
    ),
    Effect.mapError((error) => new Error(`checking the accounts: ${String(error)}`)),
    Effect.scoped
  )

/** The phases of a scenario (ms) and the clients per instance. */
export interface Timing {
  /** Load before the fault. */
  readonly warmMs: number
  /** How long the server stays down. */
  readonly outageMs: number
  /** Load after the server's return (or the kill). */
  readonly afterMs: number
  readonly clients: number
}

/** A server the scenario stops and starts again. */
interface Stoppable {
  readonly stop: Effect.Effect<void, Error>
  readonly start: Effect.Effect<void, Error>
}

/** Two app instances on one database, under load: what a scenario needs of them, whatever they are. */
export interface Deployment {
  readonly load: Load
  /** Kills instance `index` (`SIGKILL`, as a crash would) and waits until it is gone. */
  readonly kill: (index: number) => Effect.Effect<void>
}

/**
 * Starts two instances with throttling on (its defaults) on `database` and puts them under `timing.clients`
 * closed-loop clients each; with `redis`, their counters on that Redis server.
 */
export type Deploy = (
  database: Database,
  timing: Timing,
  redis?: { readonly url: string }
) => Effect.Effect<Deployment, Error, Scope.Scope>

/** The library-level instances: processes of `scripts/instanceApp.ts`, driven over IPC. */
export const processes: Deploy = (database, timing, redis) =>
  Effect.gen(function*() {
    const instances = yield* startInstances(2, database.url, {
      store: database.store,
      throttle: {},
      ...(redis === undefined ? {} : { redisCounters: { url: redis.url, prefix: "userharbor-faults:" } })
    })
    const load = yield* startLoad(instances, timing.clients)
    return { load, kill: (index) => instances[index]?.kill ?? Effect.void }
  })

/** A database server of the scenario's own, which it may stop and start again. */
export type Server = Effect.Effect<Database & Stoppable, Error, Scope.Scope>

/** A private PostgreSQL server, stopped with `pg_ctl stop -m immediate` (or frozen: `pause`, `resume`). */
export const postgres = Effect.map(privatePostgres, (server) => ({ ...server, store: "pg" as const }))

/** A private MariaDB server, stopped with `SIGKILL`. */
export const mariadb: Server = Effect.map(privateMariadb, (server) => ({ ...server, store: "mysql" as const }))

/** `deploy` on a fresh `database` server, warmed up under load for `timing.warmMs`. */
const underLoad = <S extends Database>(
  deploy: Deploy,
  timing: Timing,
  redis: { readonly url: string } | undefined,
  database: Effect.Effect<S, Error, Scope.Scope>
) =>
  Effect.gen(function*() {
    const server = yield* database
    const deployment = yield* deploy(server, timing, redis)
    yield* Effect.sleep(timing.warmMs)
    return { server, ...deployment }
  })

/** `down` stopped under load and started again `outageMs` later: the outage as the requests saw it. */
const restart = (timing: Timing, load: Load, down: Stoppable) =>
  Effect.gen(function*() {
    const downAt = now()
    yield* down.stop
    yield* Effect.sleep(timing.outageMs)
    const startAt = now()
    yield* down.start
    const upAt = now()
    yield* Effect.sleep(timing.afterMs)
    const samples = yield* load.stop
    const outage = outageReport(samples, { downAt, startAt, upAt, settleMs: 500, settledAfterMs: timing.afterMs / 2 })
    return { samples, outage }
  })

/**
 * The database server (PostgreSQL, stopped with `-m immediate`, unless `server` says otherwise) stopped under load
 * and started again `outageMs` later.
 */
export const databaseRestart = (timing: Timing, deploy: Deploy = processes, server: Server = postgres) =>
  Effect.gen(function*() {
    const { load, server: database } = yield* underLoad(deploy, timing, undefined, server)
    const { outage, samples } = yield* restart(timing, load, database)
    return { requests: samples.length, outage, accounts: yield* checkAccounts(database, samples) }
  }).pipe(Effect.scoped)

/**
 * The PostgreSQL server frozen (`SIGSTOP`, connections left open) under load and let go on `outageMs` later: what
 * the requests do when the server stops answering without closing anything.
 */
export const databaseFreeze = (timing: Timing, deploy: Deploy = processes) =>
  Effect.gen(function*() {
    const { load, server } = yield* underLoad(deploy, timing, undefined, postgres)
    const { outage, samples } = yield* restart(timing, load, { stop: server.pause, start: server.resume })
    return { requests: samples.length, outage, accounts: yield* checkAccounts(server, samples) }
  }).pipe(Effect.scoped)

/**
 * The Redis server of the counters (a private one) killed under load and started again, empty, `outageMs` later;
 * the accounts stay on PostgreSQL.
 */
export const redisRestart = (timing: Timing, deploy: Deploy = processes) =>
  Effect.gen(function*() {
    const redis = yield* privateRedis()
    const { load, server } = yield* underLoad(deploy, timing, redis, postgres)
    const { outage, samples } = yield* restart(timing, load, redis)
    return { requests: samples.length, outage, accounts: yield* checkAccounts(server, samples) }
  }).pipe(Effect.scoped)

/** One of the two instances killed (`SIGKILL`) under load; the other goes on. */
export const instanceKill = (timing: Timing, deploy: Deploy = processes) =>
  Effect.gen(function*() {
    const { kill, load, server } = yield* underLoad(deploy, timing, undefined, postgres)
    const killedAt = now()
    yield* kill(1)
    yield* Effect.sleep(timing.afterMs)
    const samples = yield* load.stop
    const survivor = samples.filter((s) => s.instance === 0)
    return {
      requests: samples.length,
      /** The survivor's outcomes over the whole run, and its longest request after the kill. */
      survivor: byOp(survivor),
      survivorLongestAfter: survivor.filter((s) => s.end > killedAt).reduce((m, s) => Math.max(m, s.end - s.start), 0),
      /** What the killed instance's clients got from the kill on (in flight included). */
      killed: byOp(samples.filter((s) => s.instance === 1 && s.end >= killedAt)),
      accounts: yield* checkAccounts(server, samples)
    }
  }).pipe(Effect.scoped)
