/**
 * A login flood against the real argon2id defaults (64 MiB, t=3, p=4): N concurrent logins of unknown names (each
 * verifies the dummy hash, so throttling never cuts them short), through the bounded hasher or an unbounded one.
 * Reports peak RSS (sampled every 5 ms), event-loop delay p99 while the flood runs, how many were refused `Busy`,
 * and the time until the last answer.
 *
 *   npx tsx bench/loginFlood.ts [logins=1000] [bounded|unbounded]
 */
import { Effect, Either, Layer } from "effect"
import { monitorEventLoopDelay, performance } from "node:perf_hooks"
import * as MemoryUserStore from "../src/MemoryUserStore.js"
import * as PasswordHasher from "../src/PasswordHasher.js"
import { UserHarbor } from "../src/UserHarbor.js"
import * as UserHarborTest from "../src/UserHarborTest.js"

const logins = Number(process.argv[2] ?? 1000)
const bounded = (process.argv[3] ?? "bounded") === "bounded"

const hasher = bounded
  ? PasswordHasher.layer()
  : Layer.effect(PasswordHasher.PasswordHasher, PasswordHasher.make())

const program = Effect.gen(function*() {
  const h = yield* UserHarbor
  const rssBefore = process.memoryUsage().rss
  let peak = rssBefore
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 5)
  const delay = monitorEventLoopDelay({ resolution: 5 })
  delay.enable()
  const started = performance.now()
  const outcomes = yield* Effect.all(
    Array.from(
      { length: logins },
      (_, i) =>
        Effect.map(
          Effect.either(h.login({ username: `flood${i}`, password: "not-the-password-1" })),
          (r) => Either.isLeft(r) ? r.left._tag : "ok"
        )
    ),
    { concurrency: "unbounded" }
  )
  const elapsed = performance.now() - started
  delay.disable()
  clearInterval(sampler)
  const tally: Record<string, number> = {}
  for (const o of outcomes) tally[o] = (tally[o] ?? 0) + 1
  const mib = (n: number) => Math.round(n / 1048576)
  console.log(JSON.stringify({
    logins,
    hasher: bounded ? `bounded ${JSON.stringify(PasswordHasher.defaultLimits())}` : "unbounded",
    outcomes: tally,
    rssBeforeMiB: mib(rssBefore),
    peakRssMiB: mib(peak),
    eventLoopDelayP99Ms: Math.round(delay.percentile(99) / 1e6),
    eventLoopDelayMaxMs: Math.round(delay.max / 1e6),
    lastAnswerMs: Math.round(elapsed)
  }))
})

Effect.runPromise(
  program.pipe(Effect.provide(UserHarborTest.layerWithStore(MemoryUserStore.layer, {}, Layer.orDie(hasher))))
)
