/**
 * `PgSessionInvalidation` on a real PostgreSQL: the port's contract, and the loss of the listening connection
 * (through a TCP proxy that is cut), noticed, reported and repaired.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as PgSessionInvalidation from "../../src/PgSessionInvalidation.js"
import { UserId } from "../../src/User.js"
import { describeOn } from "../sqlDatabases.js"
import { connectedTo, invalidationSuite } from "../support/invalidationConformance.js"
import { tcpProxy } from "../tcpProxy.js"

// Channels are per database, not per schema: each test gets one of its own.
const freshChannel = () => `userharbor_test_${randomBytes(6).toString("hex")}`

describeOn("pg", "session invalidation", (url) => {
  const client = PgClient.layer({ url: Redacted.make(url) })
  const service = (options: PgSessionInvalidation.Options) =>
    Effect.flatMap(Layer.build(client), (context) => PgSessionInvalidation.make(options).pipe(Effect.provide(context)))

  invalidationSuite(
    "PostgreSQL",
    Effect.suspend(() => {
      const channel = freshChannel()
      return Effect.all([
        service({ url: Redacted.make(url), channel }),
        service({ url: Redacted.make(url), channel })
      ])
    })
  )

  it.live("reports a lost listening connection, reconnects, and delivers again", () =>
    Effect.gen(function*() {
      const channel = freshChannel()
      const proxy = yield* tcpProxy(Number(new URL(url).port || 5432))
      const through = new URL(url)
      through.host = `127.0.0.1:${proxy.port}`
      const listener = yield* service({ url: Redacted.make(through.toString()), channel, maxBackoff: "200 millis" })
      const publisher = yield* service({ url: Redacted.make(url), channel })
      const sub = yield* connectedTo(listener)

      yield* proxy.setMode("refuse")
      yield* sub.until("Disconnected").pipe(Effect.timeout("2 seconds"))
      // Published while the listener is away: lost, which is what `Connected` then warns of.
      yield* publisher.publish({ _tag: "Unverified" })
      yield* Effect.sleep("300 millis")
      yield* proxy.setMode("forward")
      yield* sub.until("Connected").pipe(Effect.timeout("5 seconds"))
      yield* publisher.publish({ _tag: "User", userId: UserId.make("after") })
      assert.deepStrictEqual(yield* sub.until("User"), { _tag: "User", userId: UserId.make("after") })
    }).pipe(Effect.scoped, Effect.timeout("20 seconds")))

  it.live("notices a host that stops answering through the heartbeat", () =>
    Effect.gen(function*() {
      const channel = freshChannel()
      const proxy = yield* tcpProxy(Number(new URL(url).port || 5432))
      const through = new URL(url)
      through.host = `127.0.0.1:${proxy.port}`
      const listener = yield* service({
        url: Redacted.make(through.toString()),
        channel,
        heartbeat: "200 millis",
        connectTimeout: "300 millis",
        maxBackoff: "200 millis"
      })
      const sub = yield* connectedTo(listener)
      yield* proxy.setMode("hang")
      yield* sub.until("Disconnected").pipe(Effect.timeout("3 seconds"))
      yield* proxy.setMode("forward")
      yield* sub.until("Connected").pipe(Effect.timeout("5 seconds"))
    }).pipe(Effect.scoped, Effect.timeout("20 seconds")))
})
