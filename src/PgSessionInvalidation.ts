/**
 * `SessionInvalidation` over PostgreSQL `LISTEN/NOTIFY`, for app instances that share one database: no other server
 * to run. Publishing is one `SELECT pg_notify(…)` on the app's pool (inside a transaction it is delivered at the
 * commit, and dropped by a rollback). Listening holds one dedicated connection per instance, opened from `url`:
 *
 * ```ts
 * const Store = SessionCache.layerShared({ ttl: "5 seconds" }).pipe(
 *   Layer.provideMerge(PgSessionInvalidation.layer({ url })),
 *   Layer.provideMerge(PgUserStore.layer({ url }))
 * )
 * ```
 *
 * The listening connection is watched: an error or end of the socket, or a heartbeat query left unanswered (a host
 * that stopped answering), counts as a loss. Subscribers then see `Disconnected`, the connection is opened again
 * with an exponential backoff (100 ms doubling to `maxBackoff`), and `Connected` follows once `LISTEN` succeeded.
 *
 * `PgClient.listen` of `@effect/sql-pg` 0.53 is not used: it swallows its connection's errors and its stream never
 * ends when the connection is lost, so a loss could not be noticed; and its `notify` binds the payload to
 * `NOTIFY`, which PostgreSQL refuses. The listening connection must reach PostgreSQL itself (a pooler in
 * transaction mode, such as PgBouncer's, does not carry `LISTEN`): point `url` at the server then.
 *
 * @since 0.3.0
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Config from "effect/Config"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import pg from "pg"
import type * as EffectTypes from "./EffectTypes.js"
import { StoreError } from "./Errors.js"
import { urlVariable } from "./internal/connectFailure.js"
import { makeHub } from "./internal/invalidationHub.js"
import * as SessionInvalidation from "./SessionInvalidation.js"

/**
 * @since 0.3.0
 * @category models
 */
export interface Options {
  /** Where the listening connection goes: `postgres://user:password@host:port/database`. */
  readonly url: Redacted.Redacted
  /** The channel's name; every instance of one app must use the same. `userharbor_sessions` by default. */
  readonly channel?: string | undefined
  /** How long to wait for the listening connection; 5 seconds by default. */
  readonly connectTimeout?: EffectTypes.DurationInput | undefined
  /**
   * How often the listening connection is checked with a query, which must answer within `connectTimeout`: the
   * bound on noticing a host that stopped answering (a closed socket is noticed at once). 5 seconds by default.
   */
  readonly heartbeat?: EffectTypes.DurationInput | undefined
  /** The longest wait between attempts to listen again; 5 seconds by default. */
  readonly maxBackoff?: EffectTypes.DurationInput | undefined
}

/**
 * The channel's name when none is given.
 *
 * @since 0.3.0
 * @category constants
 */
export const defaultChannel = "userharbor_sessions"

// Why a listening connection ended; never printed, so it carries no driver message.
class Lost {
  readonly _tag = "Lost"
}

/**
 * Builds the service; publishing uses the `PgClient` in context, listening a connection of its own, kept open (and
 * reopened) in the scope.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<SessionInvalidation.SessionInvalidationService, never, PgClient.PgClient | Scope.Scope> =>
  Effect.gen(function*() {
    const sql = (yield* PgClient.PgClient).withoutTransforms()
    const channel = options.channel ?? defaultChannel
    const connectTimeout = Duration.decode(options.connectTimeout ?? "5 seconds")
    const heartbeat = Duration.decode(options.heartbeat ?? "5 seconds")
    const hub = yield* makeHub(false)

    // One connection's life: open, `LISTEN`, then wait for its loss; fails with `Lost` when it ends.
    const listenOnce = Effect.acquireRelease(
      Effect.sync(() => {
        const client = new pg.Client({
          connectionString: Redacted.value(options.url),
          connectionTimeoutMillis: Duration.toMillis(connectTimeout),
          application_name: "userharbor-invalidation",
          keepAlive: true
        })
        // Errors are reported through `ended` below; without a listener an error event would crash the process.
        client.on("error", () => {})
        return client
      }),
      (client) =>
        Effect.promise(() => client.end().catch(() => undefined)).pipe(Effect.timeoutOption(1000), Effect.ignore)
    ).pipe(
      Effect.flatMap((client) =>
        Effect.gen(function*() {
          // Watched from before the connection opens, so no loss goes unseen.
          const ended = yield* Deferred.make<never, Lost>()
          const lost = () => Deferred.unsafeDone(ended, Exit.fail(new Lost()))
          client.once("error", lost)
          client.once("end", lost)
          const query = (text: string) =>
            Effect.tryPromise({ try: () => client.query(text), catch: () => new Lost() }).pipe(
              Effect.timeoutFail({ duration: connectTimeout, onTimeout: () => new Lost() })
            )
          yield* Effect.tryPromise({ try: () => client.connect(), catch: () => new Lost() }).pipe(
            Effect.timeoutFail({ duration: connectTimeout, onTimeout: () => new Lost() })
          )
          // The driver calls back outside any fiber: messages wait in a queue, handed on in order.
          const inbox = yield* Queue.unbounded<SessionInvalidation.Invalidation>()
          yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(inbox), hub.deliver)))
          client.on("notification", (message) => {
            if (message.channel !== channel || message.payload === undefined) return
            Option.map(SessionInvalidation.decode(message.payload), (invalidation) => inbox.unsafeOffer(invalidation))
          })
          yield* query(`LISTEN ${client.escapeIdentifier(channel)}`)
          yield* hub.setLive(true)
          const beating = query("SELECT 1").pipe(Effect.delay(heartbeat), Effect.forever)
          return yield* Effect.raceFirst(Deferred.await(ended), beating)
        })
      ),
      Effect.scoped,
      Effect.ensuring(hub.setLive(false))
    )

    yield* listenOnce.pipe(
      // A connection that lived a while starts the backoff again.
      Effect.retry(
        Schedule.exponential("100 millis").pipe(
          Schedule.union(Schedule.spaced(options.maxBackoff ?? "5 seconds")),
          Schedule.resetAfter(Duration.sum(heartbeat, "1 second"))
        )
      ),
      Effect.forkScoped
    )

    return {
      publish: (invalidation) =>
        sql`SELECT pg_notify(${channel}, ${SessionInvalidation.encode(invalidation)})`.pipe(
          Effect.asVoid,
          Effect.catchTag(
            "SqlError",
            (cause) => Effect.fail(new StoreError({ operation: "publishInvalidation", cause }))
          )
        ),
      subscribe: hub.subscribe
    }
  })

/**
 * The channel over the `PgClient` it is provided with (usually `PgUserStore.layer`'s).
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<SessionInvalidation.SessionInvalidation, never, PgClient.PgClient> =>
  Layer.scoped(SessionInvalidation.SessionInvalidation, make(options))

/**
 * `layer` with its options from `Config`; by default the URL comes from `USERHARBOR_DATABASE_URL`.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  config?: Config.Config.Wrap<Options>
): Layer.Layer<SessionInvalidation.SessionInvalidation, EffectTypes.ConfigError, PgClient.PgClient> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config ?? { url: Config.redacted(urlVariable) }), layer))
