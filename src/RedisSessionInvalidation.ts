/**
 * `SessionInvalidation` over Redis pub/sub, for app instances that share a Redis server (whatever their database):
 *
 * ```ts
 * const Store = SessionCache.layerShared({ ttl: "5 seconds" }).pipe(
 *   Layer.provideMerge(RedisSessionInvalidation.layer()),
 *   Layer.provideMerge(PgUserStore.layerConfig()),
 *   Layer.provide(RedisClient.layerConfig())
 * )
 * ```
 *
 * Publishing is one `PUBLISH` on the `RedisClient`'s command connection, at once (Redis has no transaction that a
 * SQL rollback could undo). Listening holds a second connection per instance (`SUBSCRIBE` takes a connection
 * over), watched two ways: the client's own notice of a closed socket, and a `PING` every `heartbeat` that must
 * answer within the client's `commandTimeout` (a server that stopped answering). On a loss subscribers see
 * `Disconnected`; the client reconnects on its own (50 ms growing to every 2 seconds), subscribes again, and
 * `Connected` follows once the server confirmed the subscription.
 *
 * Redis delivers a message only to the connections subscribed when it is published, and keeps nothing: what is
 * published while an instance is disconnected is lost to it, which `Connected` tells (the shared `SessionCache`
 * then starts empty). Channels are server-wide (not per database number): apps that share a server need channels
 * of their own.
 *
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as EffectTypes from "./EffectTypes.js"
import { makeHub } from "./internal/invalidationHub.js"
import { command } from "./internal/redis.js"
import { RedisClient } from "./RedisClient.js"
import * as SessionInvalidation from "./SessionInvalidation.js"

/**
 * @since 0.3.0
 * @category models
 */
export interface Options {
  /** The channel's name; every instance of one app must use the same. `userharbor:sessions` by default. */
  readonly channel?: string | undefined
  /**
   * How often the listening connection is checked with a `PING`: the bound on noticing a server that stopped
   * answering (a closed socket is noticed at once). 5 seconds by default.
   */
  readonly heartbeat?: EffectTypes.DurationInput | undefined
}

/**
 * The channel's name when none is given.
 *
 * @since 0.3.0
 * @category constants
 */
export const defaultChannel = "userharbor:sessions"

// What the listening connection's callbacks hand to the fiber that feeds the hub, in the order they happened.
type Received = SessionInvalidation.Invalidation | "up" | "down"

/**
 * Builds the service on the `RedisClient` in context; the listening connection lives (and is reopened) in the
 * scope.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<SessionInvalidation.SessionInvalidationService, never, RedisClient | Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* RedisClient
    const channel = options.channel ?? defaultChannel
    const heartbeat = options.heartbeat ?? "5 seconds"
    const hub = yield* makeHub(false)

    const listen = Effect.gen(function*() {
      const subscriber = yield* client.duplicate
      const inbox = yield* Queue.unbounded<Received>()
      subscriber.on("message", (from: string, payload: string) => {
        if (from !== channel) return
        Option.map(SessionInvalidation.decode(payload), (invalidation) => inbox.unsafeOffer(invalidation))
      })
      subscriber.on("close", () => inbox.unsafeOffer("down"))
      // On every (re)connection. A failed `SUBSCRIBE` on a connection that is up starts a new one, so the channel
      // cannot stay down while the connection looks healthy.
      const subscribe = () =>
        subscriber.subscribe(channel).then(
          () => inbox.unsafeOffer("up"),
          () => subscriber.status === "ready" && subscriber.disconnect(true)
        )
      let restarting = false
      subscriber.on("ready", () => {
        restarting = false
        void subscribe()
      })
      void subscribe()
      yield* command("heartbeat", () => subscriber.ping()).pipe(
        // Down at once: closing a connection to a server that does not answer can take seconds, and is asked for
        // once per connection.
        Effect.catchAll(() =>
          Effect.sync(() => {
            if (subscriber.status !== "ready" || restarting) return
            restarting = true
            inbox.unsafeOffer("down")
            subscriber.disconnect(true)
          })
        ),
        Effect.delay(heartbeat),
        Effect.forever,
        Effect.forkScoped
      )
      return yield* Effect.forever(Effect.flatMap(
        Queue.take(inbox),
        (received) => received === "up" || received === "down" ? hub.setLive(received === "up") : hub.deliver(received)
      ))
    }).pipe(Effect.scoped, Effect.ensuring(hub.setLive(false)))

    // Only the first connection is retried here (the server was unreachable at start); later losses are the
    // client's to repair.
    yield* listen.pipe(
      Effect.retry(Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("2 seconds")))),
      Effect.forkScoped
    )

    return {
      publish: (invalidation) =>
        Effect.asVoid(
          command(
            "publishInvalidation",
            () => client.redis.publish(channel, SessionInvalidation.encode(invalidation))
          )
        ),
      subscribe: hub.subscribe
    }
  })

/**
 * The channel on the `RedisClient` it is provided with.
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<SessionInvalidation.SessionInvalidation, never, RedisClient> =>
  Layer.scoped(SessionInvalidation.SessionInvalidation, make(options))
