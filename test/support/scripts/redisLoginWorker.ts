/**
 * One app instance of the cross-process counter test: the accounts in a shared SQLite file, the throttling
 * counters on Redis under a given prefix, throttling on with its defaults. It prints `ready`, then for each line
 * `<count> <username>` runs that many concurrent logins with a wrong password and prints their outcomes as one
 * JSON line after `result ` (`result {"TooManyAttempts": 62, "InvalidCredentials": 5}`); other lines are logs.
 */
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { createInterface } from "node:readline"
import * as RedisClient from "../../../src/RedisClient.js"
import * as RedisCounterStore from "../../../src/RedisCounterStore.js"
import * as SqliteUserStore from "../../../src/SqliteUserStore.js"
import { UserHarbor } from "../../../src/UserHarbor.js"
import * as UserHarborTest from "../../../src/UserHarborTest.js"

const [filename, url, prefix] = process.argv.slice(2)
if (filename === undefined || url === undefined || prefix === undefined) {
  throw new Error("usage: redisLoginWorker <database file> <redis url> <key prefix>")
}

const store = RedisCounterStore.layer({ prefix }).pipe(
  Layer.provide(RedisClient.layer({ url: Redacted.make(url) })),
  Layer.provideMerge(SqliteUserStore.layer({ filename }))
)
const runtime = ManagedRuntime.make(UserHarborTest.layerWithStore(store).pipe(Layer.orDie))
await runtime.runPromise(Effect.void)
process.stdout.write("ready\n")
for await (const line of createInterface({ input: process.stdin })) {
  const [count, username] = line.split(" ")
  const logins = Array.from(
    { length: Number(count) },
    (_, i) =>
      Effect.flatMap(UserHarbor, (h) => h.login({ username: username ?? "", password: `wrong-guess-${i}` })).pipe(
        Effect.match({ onFailure: (error) => error._tag, onSuccess: () => "ok" })
      )
  )
  const outcomes = await runtime.runPromise(Effect.all(logins, { concurrency: "unbounded" }))
  const counts: Record<string, number> = {}
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1
  process.stdout.write(`result ${JSON.stringify(counts)}\n`)
}
await runtime.dispose()
