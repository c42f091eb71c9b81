/**
 * Scenarios 1, 2 and 7: session checks on a SQLite file, against the raw baseline (HMAC + one prepared
 * better-sqlite3 statement), from inside a fiber and from plain async code through a `ManagedRuntime`.
 */
import { Effect } from "effect"
import { performance } from "node:perf_hooks"
import type { UserHarbor } from "../src/UserHarbor.js"
import { rawSqliteCheck, seedSqlite, sqliteHarbor, tokenFor } from "./fixtures.js"
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

export interface SessionCheckResult {
  readonly sessions: number
  readonly raw: Summary
  readonly verifySession: Summary
  readonly validateSession: Summary
  readonly verifyRatio: number
  readonly validateRatio: number
  /** `validateSession` with `SessionCache` over the store, on 1,000 active sessions (mostly cache hits). */
  readonly cachedValidateSession: Summary
  readonly cachedValidateRatio: number
}

type Run = <A, E>(effect: Effect.Effect<A, E>) => Promise<A>

const checkAll = async (
  harbor: UserHarbor["Type"],
  run: Run,
  cached: { readonly harbor: UserHarbor["Type"]; readonly run: Run },
  check: (token: string) => boolean,
  tokens: ReadonlyArray<string>,
  options: { readonly rounds: number; readonly batch: number; readonly warmup: number }
) => {
  const at = (i: number) => tokens[i % tokens.length] ?? ""
  // Every token is live: a wrong answer would make the numbers meaningless.
  for (let i = 0; i < 100; i++) {
    if (!check(at(i)) || !(await run(harbor.verifySession(at(i))))) throw new Error(`session ${i} not valid`)
  }
  return alternate([
    perCall("raw", (i) => check(at(i))),
    inFiber("verifySession", run, (i) => harbor.verifySession(at(i))),
    inFiber("validateSession", run, (i) => harbor.validateSession(at(i))),
    // 1,000 sessions active within the cache's TTL: after the first look-up of each, cache hits.
    inFiber("validateSession+SessionCache", cached.run, (i) => cached.harbor.validateSession(at(i % 1000)))
  ], options)
}

/** Scenarios 1 and 2: a session check on a file with `sessions` sessions. */
export const sessionCheck = async (
  sessions: number,
  options: { readonly rounds: number; readonly batch: number; readonly warmup: number }
): Promise<SessionCheckResult> => {
  const filename = await seedSqlite(sessions)
  const raw = rawSqliteCheck(filename)
  const { harbor, runtime } = await sqliteHarbor(filename)
  const cached = await sqliteHarbor(filename, { cache: true })
  try {
    const tokens = tokensOver(sessions, Math.min(sessions, 10_000))
    const result = await checkAll(
      harbor,
      (effect) => runtime.runPromise(effect),
      { harbor: cached.harbor, run: (effect) => cached.runtime.runPromise(effect) },
      raw.check,
      tokens,
      options
    )
    const summary = (name: string): Summary => {
      const s = result[name]
      if (s === undefined) throw new Error(`no samples for ${name}`)
      return s
    }
    return {
      sessions,
      raw: summary("raw"),
      verifySession: summary("verifySession"),
      validateSession: summary("validateSession"),
      verifyRatio: ratio(summary("verifySession").medianUs, summary("raw").medianUs),
      validateRatio: ratio(summary("validateSession").medianUs, summary("raw").medianUs),
      cachedValidateSession: summary("validateSession+SessionCache"),
      cachedValidateRatio: ratio(summary("validateSession+SessionCache").medianUs, summary("raw").medianUs)
    }
  } finally {
    await cached.runtime.dispose()
    await runtime.dispose()
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
    const rawHandler = async (token: string) => raw.check(token)
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
