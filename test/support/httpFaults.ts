/**
 * The fault scenarios of `faults.ts` over HTTP: two processes of the example app (`bench/http/server.ts app`, as the
 * HTTP benchmark runs it: every middleware, argon2 at its defaults, the outbox worker; here with
 * `SessionCache.layerShared` over `PgSessionInvalidation`, as several instances need it, and behind one trusted
 * proxy) on the private PostgreSQL server of the scenario, each driven by closed-loop `fetch` clients cycling
 * through the same mix: `GET /api/accounts/me` with a session cookie, `POST /api/sessions`, again the session check,
 * `POST /api/accounts`. Every request has a client timeout, so a hang shows as `"timeout"` rather than stalling the
 * run. For `features/HttpFaultsUnderLoad.test.ts` and `bench/faults.ts` (`http`).
 */
import { Effect, Fiber, Layer, Predicate, Redacted, type Scope } from "effect"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { closeSync, openSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { emailFor, password as heldPassword, tokenFor } from "../../bench/fixtures.js"
import { seed } from "../../bench/postgres.js"
import * as PgUserStore from "../../src/PgUserStore.js"
import { killed, temporaryDirectory } from "./childProcesses.js"
import { type Deploy, type Load, mix, now, password, type Sample } from "./faults.js"
import { freePort } from "./freePort.js"

const server = fileURLToPath(new URL("../../bench/http/server.ts", import.meta.url))
const cookieName = "__Host-session"
/** Seeded sessions (10 per account: 3 verified accounts), which the session checks present. */
const heldSessions = 30
const heldAccounts = heldSessions / 10

/** The library's tables on the empty database at `url`, and the held accounts with their sessions. */
const migrateAndSeed = (url: string) =>
  Effect.gen(function*() {
    yield* Effect.scoped(Layer.build(PgUserStore.layer({ url: Redacted.make(url) })))
    yield* Effect.tryPromise({
      try: async () => {
        const pool = new pg.Pool({ connectionString: url, max: 1 })
        try {
          await seed(pool, heldSessions)
        } finally {
          await pool.end()
        }
      },
      catch: (error) => new Error(`seeding: ${String(error)}`)
    })
  }).pipe(Effect.mapError((error) => new Error(`preparing the database: ${String(error)}`)))

/** One app process; its output goes to a log file, quoted when it does not start. */
interface App {
  readonly origin: string
  readonly kill: Effect.Effect<void>
}

const startApp = (url: string, channel: string): Effect.Effect<App, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const dir = yield* temporaryDirectory("userharbor-app-")
    const port = yield* freePort
    const log = join(dir, "log")
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const out = openSync(log, "w")
        try {
          return spawn(process.execPath, ["--import", "tsx", server, "app"], {
            env: {
              ...process.env,
              PORT: String(port),
              BENCH_PG_URL: url,
              BENCH_CACHE: "1",
              BENCH_CHANNEL: channel,
              BENCH_TRUSTED_PROXIES: "1"
            },
            stdio: ["ignore", out, out]
          })
        } finally {
          // The child has its own copy.
          closeSync(out)
        }
      }),
      killed
    )
    const origin = `http://127.0.0.1:${port}`
    // Ready when a held session is accepted. Each probe has a timeout: the server listens before the app is built,
    // and a request that arrives then is never answered.
    const probe = Effect.promise(() =>
      fetch(`${origin}/api/accounts/me`, {
        headers: { cookie: `${cookieName}=${tokenFor(0)}` },
        signal: AbortSignal.timeout(1_000)
      }).then((response) => response.status, () => 0)
    )
    const deadline = Date.now() + 90_000
    for (;;) {
      const status = yield* probe
      if (status === 200) break
      if (status !== 0 || child.exitCode !== null || Date.now() > deadline) {
        return yield* Effect.fail(
          new Error(`app on ${port} did not start (${status}): ${readFileSync(log, "utf8").slice(-2_000)}`)
        )
      }
      yield* Effect.sleep("250 millis")
    }
    return { origin, kill: killed(child) }
  })

/** What one request answered: 2xx is success; otherwise the status and the error body's `_tag`. */
interface Answer {
  readonly ok: boolean
  readonly tag: string
}

const errorTag = (text: string): string => {
  try {
    const body: unknown = JSON.parse(text)
    return Predicate.hasProperty(body, "_tag") && typeof body._tag === "string" ? body._tag : ""
  } catch {
    return ""
  }
}

// A request that got no answer: `"timeout"` past the client's bound, else the socket error's code (`ECONNREFUSED`
// from a dead instance, `ECONNRESET` or `UND_ERR_SOCKET` for a connection it dropped).
const noAnswer = (error: unknown): string => {
  if (Predicate.hasProperty(error, "name") && error.name === "TimeoutError") return "timeout"
  const cause = Predicate.hasProperty(error, "cause") ? error.cause : undefined
  return Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? cause.code : "fetch failed"
}

const send = (url: string, init: RequestInit, timeoutMs: number): Effect.Effect<Answer> =>
  Effect.promise(async (): Promise<Answer> => {
    try {
      // The timeout covers the body as well as the headers.
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
      const text = await response.text()
      return response.ok
        ? { ok: true, tag: String(response.status) }
        : { ok: false, tag: `${response.status} ${errorTag(text)}`.trim() }
    } catch (error) {
      return { ok: false, tag: noAnswer(error) }
    }
  })

// Addresses from the benchmarking range (RFC 2544) for `X-Forwarded-For`: one per client for its checks and logins,
// one per registration (people register from their own machines; the app allows 10 registrations an hour per client).
const address = (base: number, n: number) => `198.${base}.${(n >> 8) & 255}.${n & 255}`

/**
 * `clients` closed-loop clients per app, each cycling through `mix`; after a failure a client pauses 5 ms, so that a
 * dead server does not turn it into a busy loop.
 */
const startHttpLoad = (
  origins: ReadonlyArray<string>,
  clients: number,
  timeoutMs: number
): Effect.Effect<Load, never, Scope.Scope> =>
  Effect.gen(function*() {
    const run = randomBytes(4).toString("hex")
    const samples: Array<Sample> = []
    let running = true
    let registered = 0
    const client = (index: number, c: number, origin: string) =>
      Effect.gen(function*() {
        const me = address(19, index * clients + c)
        for (let step = c; running; step++) {
          const op = mix[step % mix.length] ?? "check"
          const n = registered++
          const email = `load-${run}-${n}@example.com`
          const post = (path: string, from: string, body: unknown) =>
            send(`${origin}${path}`, {
              method: "POST",
              headers: { origin, "content-type": "application/json", "x-forwarded-for": from },
              body: JSON.stringify(body)
            }, timeoutMs)
          const start = now()
          const answer = op === "check"
            ? yield* send(`${origin}/api/accounts/me`, {
              headers: { cookie: `${cookieName}=${tokenFor(step % heldSessions)}`, "x-forwarded-for": me }
            }, timeoutMs)
            : op === "login"
            ? yield* post("/api/sessions", me, { email: emailFor(step % heldAccounts), password: heldPassword })
            : yield* post("/api/accounts", address(18, n), { username: `load${run}${n}`, email, password })
          samples.push({
            instance: index,
            op,
            start,
            end: now(),
            ...answer,
            ...(op === "register" ? { email } : {})
          })
          if (!answer.ok) yield* Effect.sleep("5 millis")
        }
      })
    const fibers = yield* Effect.forEach(
      origins.flatMap((origin, index) => Array.from({ length: clients }, (_, c) => client(index, c, origin))),
      (loop) => Effect.forkScoped(loop)
    )
    return {
      stop: Effect.suspend(() => {
        running = false
        return Effect.as(Fiber.joinAll(fibers), samples)
      })
    }
  })

/**
 * Two processes of the example app on the PostgreSQL `database` (migrated and seeded first, then started together),
 * under `timing.clients` clients each whose requests give up after `requestTimeoutMs`. The app keeps its counters in
 * the database: a Redis server is refused.
 */
export const httpApps = (options: { readonly requestTimeoutMs: number }): Deploy => (database, timing, redis) =>
  Effect.gen(function*() {
    if (redis !== undefined) return yield* Effect.fail(new Error("the example app keeps its counters in the database"))
    if (database.store !== "pg") return yield* Effect.fail(new Error("the HTTP benchmark's app runs on PostgreSQL"))
    const { url } = database
    yield* migrateAndSeed(url)
    const channel = `userharbor_faults_${randomBytes(6).toString("hex")}`
    const apps = yield* Effect.all([startApp(url, channel), startApp(url, channel)], { concurrency: "unbounded" })
    const load = yield* startHttpLoad(apps.map((app) => app.origin), timing.clients, options.requestTimeoutMs)
    return { load, kill: (index) => apps[index]?.kill ?? Effect.void }
  })
