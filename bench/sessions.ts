/**
 * Scenarios 1, 2 and 7: session checks on a SQLite file, against the raw baseline (token shape, HMAC, one prepared
 * better-sqlite3 statement reading only what `validateSession` returns, expiry) and Lucia v3 on the same file: the
 * library from inside a fiber, from plain async code through a `ManagedRuntime`, through `runSync`, and as the plain
 * function `UserHarbor.sessionChecker` hands out.
 */
import { Effect, Tracer } from "effect"
import { performance } from "node:perf_hooks"
import * as UserHarbor from "../src/UserHarbor.js"
import { lastSeedSeconds, luciaSqliteCheck, rawSqliteCheck, seedSqlite, sqliteHarbor, tokenFor } from "./fixtures.js"
import { alternate, type Contender, perCall, ratio, type Summary } from "./stats.js"

/** Tokens of sessions spread over the whole table, computed before timing starts. */
const tokensOver = (sessions: number, count: number): ReadonlyArray<string> =>
  Array.from({ length: count }, (_, i) => tokenFor((i * 2654435761) % sessions))

/** Times each call inside one fiber, as an Effect app (an Effect HTTP server, say) calls the library. */
const inFiber = <E>(
  name: string,
  run: <A, E2>(effect: Effect.Effect<A, E2>) => Promise<A>,
  call: (i: number) => Effect.Effect<unknown, E>
): Contender => ({
  name,
  batch: (from, count, samples) =>
    run(Effect.gen(function*() {
      for (let i = from; i < from + count; i++) {
        const start = performance.now()
        yield* call(i)
        samples.push((performance.now() - start) * 1000)
      }
    }))
})

type Run = <A, E>(effect: Effect.Effect<A, E>) => Promise<A>

/** A tracer that is not Effect's built-in one (as an app's OpenTelemetry layer is), making the same native spans. */
const installedTracer = Effect.map(
  Effect.tracer,
  (native) => Tracer.make({ span: (...args) => native.span(...args), context: native.context })
)

export interface SessionCheckResult {
  readonly sessions: number
  /** Seconds spent building the fixture file in this run (0: the cached file was reused). */
  readonly seedSeconds: number
  readonly summaries: Record<string, Summary>
  /** Each contender's median over the raw check's. */
  readonly ratios: Record<string, number>
  /** Lucia's median over `validateSession` through `runtime.runPromise`: how many times faster the library is. */
  readonly fasterThanLucia: number
}

/** The contenders of scenarios 1 and 2, by name. */
export const contenders = {
  raw: "raw (minimal hand-written check)",
  rawTwoReads: "raw as the library reads (two point reads, mmap)",
  lucia: "Lucia v3 validateSession (await)",
  runPromise: "validateSession via runtime.runPromise (await)",
  fiber: "validateSession in a fiber",
  verifyFiber: "verifySession in a fiber",
  checker: "UserHarbor.sessionChecker (plain function)",
  runSync: "validateSession via runtime.runSync",
  traced: "validateSession in a fiber, tracer installed",
  cached: "validateSession + SessionCache in a fiber"
} as const

/** Scenarios 1 and 2: a session check on a file with `sessions` sessions, every contender alternating. */
export const sessionCheck = async (
  sessions: number,
  options: { readonly rounds: number; readonly batch: number; readonly warmup: number }
): Promise<SessionCheckResult> => {
  const filename = await seedSqlite(sessions)
  const seedSeconds = lastSeedSeconds
  const raw = rawSqliteCheck(filename)
  const lucia = luciaSqliteCheck(filename)
  const { harbor, runtime } = await sqliteHarbor(filename)
  const cached = await sqliteHarbor(filename, { cache: true })
  try {
    const check = await runtime.runPromise(UserHarbor.sessionChecker)
    const tracer = await runtime.runPromise(installedTracer)
    const tokens = tokensOver(sessions, Math.min(sessions, 10_000))
    const at = (i: number) => tokens[i % tokens.length] ?? ""
    const run: Run = (effect) => runtime.runPromise(effect)
    // Every token is live for every contender: a wrong answer would make the numbers meaningless.
    for (let i = 0; i < 100; i++) {
      const result = await check(at(i))
      if (raw.check(at(i)) === undefined || (await lucia.check(at(i))) === undefined || !result.ok) {
        throw new Error(`session ${i} not valid`)
      }
    }
    const summaries = await alternate([
      perCall(contenders.raw, (i) => raw.check(at(i))),
      perCall(contenders.rawTwoReads, (i) => raw.checkTwoReads(at(i))),
      perCall(contenders.lucia, (i) => lucia.check(at(i))),
      perCall(contenders.runPromise, (i) => runtime.runPromise(harbor.validateSession(at(i)))),
      inFiber(contenders.fiber, run, (i) => harbor.validateSession(at(i))),
      inFiber(contenders.verifyFiber, run, (i) => harbor.verifySession(at(i))),
      perCall(contenders.checker, (i) => check(at(i))),
      perCall(contenders.runSync, (i) => runtime.runSync(harbor.validateSession(at(i)))),
      inFiber(contenders.traced, run, (i) => Effect.withTracer(harbor.validateSession(at(i)), tracer)),
      // 1,000 sessions active within the cache's TTL: after the first look-up of each, cache hits.
      inFiber(
        contenders.cached,
        (effect) => cached.runtime.runPromise(effect),
        (i) => cached.harbor.validateSession(at(i % 1000))
      )
    ], options)
    const median = (name: string) => {
      const summary = summaries[name]
      if (summary === undefined) throw new Error(`no samples for ${name}`)
      return summary.medianUs
    }
    return {
      sessions,
      seedSeconds,
      summaries,
      ratios: Object.fromEntries(
        Object.keys(summaries).map((name) => [name, ratio(median(name), median(contenders.raw))])
      ),
      fasterThanLucia: ratio(median(contenders.lucia), median(contenders.runPromise))
    }
  } finally {
    await cached.runtime.dispose()
    await runtime.dispose()
    lucia.close()
    raw.close()
  }
}

export interface ManagedRuntimeResult {
  readonly raw: Summary
  readonly managedRuntime: Summary
  readonly ratio: number
}

/**
 * Scenario 7: an Express-style handler in plain async code awaits `runtime.runPromise(harbor.verifySession(token))`
 * per request, against an async function around the raw check.
 */
export const fromPlainAsync = async (
  options: { readonly rounds: number; readonly batch: number; readonly warmup: number }
): Promise<ManagedRuntimeResult> => {
  const sessions = 10_000
  const filename = await seedSqlite(sessions)
  const raw = rawSqliteCheck(filename)
  const { harbor, runtime } = await sqliteHarbor(filename)
  try {
    const tokens = tokensOver(sessions, sessions)
    const at = (i: number) => tokens[i % tokens.length] ?? ""
    const rawHandler = async (token: string) => raw.check(token) !== undefined
    const handler = async (token: string) => runtime.runPromise(harbor.verifySession(token))
    const result = await alternate([
      perCall("raw", (i) => rawHandler(at(i))),
      perCall("managedRuntime", (i) => handler(at(i)))
    ], options)
    const rawSummary = result["raw"]
    const managed = result["managedRuntime"]
    if (rawSummary === undefined || managed === undefined) throw new Error("missing samples")
    return { raw: rawSummary, managedRuntime: managed, ratio: ratio(managed.medianUs, rawSummary.medianUs) }
  } finally {
    await runtime.dispose()
    raw.close()
  }
}
