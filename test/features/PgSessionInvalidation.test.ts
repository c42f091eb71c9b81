/**
 * `PgSessionInvalidation` on a real PostgreSQL: the port's contract, and the loss of the listening connection
 * (through a TCP proxy that is cut), noticed, reported and repaired.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as PgSessionInvalidation from "../../src/PgSessionInvalidation.js"
import * as SessionCache from "../../src/SessionCache.js"
import * as SessionInvalidation from "../../src/SessionInvalidation.js"
import { UserId } from "../../src/User.js"
import { UserStore } from "../../src/UserStore.js"
import { connectedTo, invalidationSuite } from "../suites/SessionInvalidationSuite.js"
import { eventually, servesFromMemory } from "../support/cacheProbe.js"
import { describeOn, pgStore } from "../support/sqlDatabases.js"
import { session, userRecord } from "../support/storeRecords.js"
import { tcpProxy } from "../support/tcpProxy.js"

// Channels are per database, not per schema: each test gets one of its own.
const freshChannel = () => `userharbor_test_${randomBytes(6).toString("hex")}`

describeOn("pg", "session invalidation", (url) => {
  const client = PgClient.layer({ url: Redacted.make(url) })
  const service = (options: PgSessionInvalidation.Options) =>
    Effect.flatMap(Layer.build(client), (context) => PgSessionInvalidation.make(options).pipe(Effect.provide(context)))

  // A TCP proxy to PostgreSQL, to cut, and the URL through it.
  const proxied = Effect.map(tcpProxy(Number(new URL(url).port || 5432)), (proxy) => {
    const through = new URL(url)
    through.host = `127.0.0.1:${proxy.port}`
    return { proxy, through: Redacted.make(through.toString()) }
  })

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
      const { proxy, through } = yield* proxied
      const listener = yield* service({ url: through, channel, maxBackoff: "200 millis" })
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
      const { proxy, through } = yield* proxied
      const listener = yield* service({
        url: through,
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

  it.live("a shared cache on PostgreSQL reads the store while its listener is cut, and forgets all once back", () =>
    Effect.gen(function*() {
      const channel = freshChannel()
      const { proxy, through } = yield* proxied
      const store = yield* Layer.build(pgStore(url))
      const direct = Context.get(store, UserStore)
      const listener = yield* PgSessionInvalidation.make({
        url: through,
        channel,
        maxBackoff: "200 millis"
      }).pipe(Effect.provide(store))
      const cached = yield* SessionCache.makeShared({ ttl: "1 hour" }).pipe(
        Effect.provide(Context.add(store, SessionInvalidation.SessionInvalidation, listener))
      )
      const user = userRecord()
      const live = session(user.id)
      yield* direct.insertUser(user)
      yield* direct.insertSession(live)
      // Connected: cached, so a row removed behind its back is still served.
      yield* eventually(servesFromMemory(cached, direct, live))
      yield* proxy.setMode("refuse")
      // Down: every look-up reads the store.
      yield* eventually(Effect.map(servesFromMemory(cached, direct, live), (served) => !served))
      yield* proxy.setMode("forward")
      // Back: served from memory again.
      yield* eventually(servesFromMemory(cached, direct, live))
    }).pipe(Effect.scoped, Effect.timeout("30 seconds")))
})
