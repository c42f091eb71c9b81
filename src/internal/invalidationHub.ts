import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { Event, Invalidation } from "../SessionInvalidation.js"

/**
 * The subscribers' side of a channel, shared by its implementations: one connection (or none) feeds `deliver` and
 * `setLive`, and every run of `subscribe` gets the messages and the states from its start on.
 */
export interface Hub {
  readonly deliver: (invalidation: Invalidation) => Effect.Effect<void>
  readonly setLive: (live: boolean) => Effect.Effect<void>
  readonly isLive: Effect.Effect<boolean>
  readonly subscribe: Stream.Stream<Event>
}

const connected: Event = { _tag: "Connected" }
const disconnected: Event = { _tag: "Disconnected" }

export const makeHub = (live: boolean): Effect.Effect<Hub> =>
  Effect.gen(function*() {
    const messages = yield* PubSub.unbounded<Invalidation>()
    const state = yield* SubscriptionRef.make(live)
    const states = state.changes.pipe(Stream.changes, Stream.map((up) => up ? connected : disconnected))
    return {
      deliver: (invalidation) => PubSub.publish(messages, invalidation),
      setLive: (up) => SubscriptionRef.set(state, up),
      isLive: SubscriptionRef.get(state),
      // The queue is taken before the states are read, so no message sent after a `Connected` is missed.
      subscribe: Stream.unwrapScoped(Effect.map(
        PubSub.subscribe(messages),
        (queue) =>
          Stream.merge(Stream.concat(Stream.make(disconnected), states), Stream.fromQueue(queue), {
            haltStrategy: "either"
          })
      ))
    }
  })
