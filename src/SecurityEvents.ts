/**
 * The live feed of the security-event trail, for apps that forward events (metrics, a SIEM, an alert on a new
 * login). UserHarbor publishes every event here after the transaction that recorded it commits, so a subscriber
 * never sees an event of a change that rolled back. Provide `layer` once, next to `UserHarbor.layer`: without it
 * events are stored (when the store provides `SecurityEventStore`) but published nowhere.
 *
 * The feed is a sliding `PubSub`: a subscriber that falls more than `capacity` events behind loses the oldest ones
 * rather than slowing logins down. The store is the durable record; the feed is best effort.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { PublishedEvent } from "./SecurityEvent.js"

/**
 * The shape of the `SecurityEvents` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface SecurityEventsService {
  /** Every event published after the stream starts running; it ends when the layer's scope closes. */
  readonly stream: Stream.Stream<PublishedEvent>
  /** A subscription as a queue, for as long as the scope is open. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<PublishedEvent>, never, Scope.Scope>
  /** How UserHarbor hands an event over (after commit). Never waits. */
  readonly publish: (event: PublishedEvent) => Effect.Effect<void>
}

/**
 * @since 0.3.0
 * @category tags
 */
export class SecurityEvents extends Context.Tag("userharbor/SecurityEvents")<SecurityEvents, SecurityEventsService>() {}

/**
 * @since 0.3.0
 * @category models
 */
export interface Options {
  /** Events a subscriber may fall behind by before it loses the oldest; 1024 by default. */
  readonly capacity?: number | undefined
}

/**
 * Builds the feed; it shuts down (ending every stream) when the scope closes.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<SecurityEventsService, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      PubSub.sliding<PublishedEvent>(Math.max(1, Math.floor(options.capacity ?? 1024))),
      PubSub.shutdown
    ),
    (hub) =>
      SecurityEvents.of({
        stream: Stream.fromPubSub(hub),
        subscribe: PubSub.subscribe(hub),
        publish: (event) => Effect.asVoid(PubSub.publish(hub, event))
      })
  )

/**
 * @since 0.3.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<SecurityEvents> => Layer.scoped(SecurityEvents, make(options))
