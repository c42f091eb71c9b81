/**
 * `npx tsx bench/http/inprocess.ts [contenders...]`: the HTTP contenders' Effect side without sockets, for finding
 * where an authenticated request's CPU time goes (docs/performance.md, "HTTP load"). Each contender's layer is
 * built on a stand-in `HttpServer` that keeps the `HttpApp` it is given; requests are then run exactly as
 * `NodeHttpServer` runs them (`HttpApp.toHandled` with the server's middleware, one fiber per request on the
 * runtime the server was started in), from a web `Request`, in rounds of `BENCH_BATCH` sequential requests
 * (default 2,000; `BENCH_ROUNDS` rounds, default 10), contenders alternating. The response is checked (status) but
 * not written anywhere: what is timed is everything but node's HTTP parser and socket writes. Prints the median
 * CPU time per request and the difference to `bare`.
 *
 * Contenders: `bare`, `app-sqlite`, `app-sqlite-cache` (the app over `SessionCache`), `app-pg` and `app-pg-cache`
 * (a seeded schema of their own on `USERHARBOR_BENCH_PG_URL`, dropped at the end; requests are sequential here, so
 * each waits for its round trip: read the profile, not the total), `check-in-app`
 * (`UserHarbor.sessionChecker` taken from the app's runtime, called in a loop: the session check alone), and, with
 * `check-in-app` and `bare`, `bare+check`: one bare request and one check per iteration, which shows what the
 * check costs between requests (its data no longer in the CPU caches) rather than in a tight loop. `BENCH_RAW=1`
 * adds the hand-written SQLite checks of `bench/fixtures.ts`, alone and interleaved with bare requests likewise.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Context, Effect, Exit, Layer, Option, Redacted, Runtime, Scope } from "effect"
import { randomBytes } from "node:crypto"
import { copyFileSync, rmSync } from "node:fs"
import { performance } from "node:perf_hooks"
import pg from "pg"
import * as PgUserStore from "../../src/PgUserStore.js"
import * as UserHarbor from "../../src/UserHarbor.js"
import { dataDir, rawSqliteCheck, seedSqlite, tokenFor } from "../fixtures.js"
import { pgUrl, seed } from "../postgres.js"
import { median } from "../stats.js"
import { appLayer, bareLayer } from "./contenders.js"

const batch = Number(process.env["BENCH_BATCH"] ?? "2000")
const rounds = Number(process.env["BENCH_ROUNDS"] ?? "10")
const concurrency = Number(process.env["BENCH_CONCURRENCY"] ?? "1")
const path = "/api/accounts/me"

interface Captured {
  readonly app: HttpApp.Default<unknown>
  readonly middleware: HttpMiddleware.HttpMiddleware | undefined
  readonly runtime: Runtime.Runtime<never>
}

// An `HttpServer` that serves nothing: it hands the app, the middleware and its runtime to `capture`. With the
// node platform's services, as `NodeHttpServer.layer` provides them.
const capturing = (capture: (captured: Captured) => void) =>
  Layer.merge(
    NodeHttpServer.layerContext,
    Layer.succeed(
      HttpServer.HttpServer,
      HttpServer.make({
        address: { _tag: "TcpAddress", hostname: "127.0.0.1", port: 3000 },
        serve: (app, middleware) =>
          Effect.map(Effect.runtime<never>(), (runtime) => {
            capture({ app, middleware, runtime })
          })
      })
    )
  )

interface Contender {
  readonly name: string
  readonly run: (i: number) => Promise<number>
}

const contender = async (
  name: string,
  layer: Layer.Layer<never, unknown, Layer.Layer.Success<ReturnType<typeof capturing>>>,
  scope: Scope.CloseableScope
): Promise<Contender> => {
  let captured: Captured | undefined
  await Effect.runPromise(Layer.buildWithScope(Layer.provide(layer, capturing((c) => captured = c)), scope))
  if (captured === undefined) throw new Error(`${name} did not serve`)
  const { app, middleware, runtime } = captured
  let status = 0
  const handled = HttpApp.toHandled(
    app,
    (_request, response: HttpServerResponse.HttpServerResponse) =>
      Effect.sync(() => {
        status = response.status
      }),
    middleware
  )
  const runFork = Runtime.runFork(runtime)
  const cookies = Array.from({ length: 1000 }, (_, i) => `__Host-session=${tokenFor((i * 7919) % 10_000)}`)
  if (name.startsWith("check-in-app")) {
    const harbor = Option.getOrThrow(Context.getOption(runtime.context, UserHarbor.UserHarbor))
    const check = await Runtime.runPromise(runtime)(
      Effect.provideService(UserHarbor.sessionChecker, UserHarbor.UserHarbor, harbor)
    )
    const tokens = Array.from({ length: 1000 }, (_, i) => tokenFor((i * 7919) % 10_000))
    return {
      name,
      run: async (i) => {
        const r = await check(tokens[i % tokens.length] ?? "")
        return r.ok ? 200 : 401
      }
    }
  }
  return {
    name,
    run: (i) => {
      const request = HttpServerRequest.fromWeb(
        new Request(`http://127.0.0.1:3000${path}`, { headers: { cookie: cookies[i % cookies.length] ?? "" } })
      )
      const fiber = runFork(Effect.provideService(handled, HttpServerRequest.HttpServerRequest, request))
      return new Promise((resolve) => {
        fiber.addObserver(() => resolve(status))
      })
    }
  }
}

// A seeded PostgreSQL schema of its own (as `run.ts` makes), dropped when `scope` closes.
const pgSchema = async (scope: Scope.CloseableScope): Promise<string> => {
  const schema = `userharbor_httpbench_${randomBytes(4).toString("hex")}`
  const admin = new pg.Pool({ connectionString: pgUrl, max: 1 })
  await admin.query(`CREATE SCHEMA ${schema}`)
  await Effect.runPromise(Scope.addFinalizer(
    scope,
    Effect.promise(async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    })
  ))
  const scoped = new URL(pgUrl)
  scoped.searchParams.set("options", `-c search_path=${schema}`)
  await Effect.runPromise(Effect.scoped(Layer.build(PgUserStore.layer({ url: Redacted.make(scoped.toString()) }))))
  const pool = new pg.Pool({ connectionString: scoped.toString(), max: 2 })
  await seed(pool, 10_000)
  await pool.end()
  return scoped.toString()
}

const combine = (name: string, a: Contender, b: Contender): Contender => ({
  name,
  run: async (i) => {
    await a.run(i)
    return b.run(i)
  }
})

const main = async () => {
  const scope = Effect.runSync(Scope.make())
  const sqlite = `${dataDir}/http-inprocess.db`
  for (const suffix of ["", "-wal", "-shm"]) rmSync(sqlite + suffix, { force: true })
  copyFileSync(await seedSqlite(10_000), sqlite)
  const wanted = process.argv.slice(2)
  const pgUrl = wanted.some((name) => name.includes("-pg")) ? await pgSchema(scope) : ""
  const all: Array<[string, () => Layer.Layer<never, unknown, Layer.Layer.Success<ReturnType<typeof capturing>>>]> = [
    ["bare", () => bareLayer],
    ["app-sqlite", () => appLayer({ sqlite, cache: false })],
    ["app-sqlite-cache", () => appLayer({ sqlite, cache: true })],
    ["check-in-app", () => appLayer({ sqlite, cache: false })],
    ["app-pg", () => appLayer({ pg: pgUrl, cache: false })],
    ["app-pg-cache", () => appLayer({ pg: pgUrl, cache: true })],
    ["check-in-app-pg", () => appLayer({ pg: pgUrl, cache: false })]
  ]
  const contenders: Array<Contender> = []
  for (const [name, layer] of all) {
    if (wanted.length === 0 || wanted.includes(name)) contenders.push(await contender(name, layer(), scope))
  }
  for (const c of contenders) {
    const status = await c.run(0)
    if (status !== 200) throw new Error(`${c.name} answered ${status}`)
    for (let i = 0; i < batch * 2; i++) await c.run(i)
  }
  const raw = rawSqliteCheck(sqlite)
  const rawTokens = Array.from({ length: 1000 }, (_, i) => tokenFor((i * 7919) % 10_000))
  const rawJoin: Contender = {
    name: "raw-join",
    run: (i) => Promise.resolve(raw.check(rawTokens[i % 1000] ?? "") === undefined ? 401 : 200)
  }
  const rawTwo: Contender = {
    name: "raw-two",
    run: (i) => Promise.resolve(raw.checkTwoReads(rawTokens[i % 1000] ?? "") === undefined ? 401 : 200)
  }
  if (process.env["BENCH_RAW"] === "1") contenders.push(rawJoin, rawTwo)
  const bareC = contenders.find((c) => c.name === "bare")
  const checkC = contenders.find((c) => c.name === "check-in-app")
  if (bareC !== undefined && checkC !== undefined) contenders.push(combine("bare+check", bareC, checkC))
  if (bareC !== undefined && process.env["BENCH_RAW"] === "1") {
    contenders.push(combine("bare+raw-join", bareC, rawJoin), combine("bare+raw-two", bareC, rawTwo))
  }
  const samples = new Map<string, Array<number>>(contenders.map((c) => [c.name, []]))
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse()
    for (const c of order) {
      const start = performance.now()
      const cpu = process.cpuUsage()
      let next = 0
      const worker = async () => {
        while (next < batch) await c.run(round * batch + next++)
      }
      await Promise.all(Array.from({ length: concurrency }, worker))
      const used = process.cpuUsage(cpu)
      const wall = performance.now() - start
      samples.get(c.name)?.push(Math.min(wall * 1000, used.user + used.system) / batch)
    }
  }
  const bare = median(samples.get("bare") ?? [])
  for (const [name, s] of samples) {
    const m = median(s)
    console.log(
      `${name.padEnd(20)} ${m.toFixed(1).padStart(7)} µs/request  ` +
        `(+${(m - bare).toFixed(1)} over bare, bare/this ${(bare / m).toFixed(2)}x)`
    )
  }
  await Effect.runPromise(Scope.close(scope, Exit.void))
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
