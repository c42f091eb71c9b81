/**
 * The `SessionInvalidation` contract, run on each implementation: delivery to every subscriber (the publisher's
 * own included), order per publisher, and the channel's states. `instances` builds two services on one channel,
 * standing in for two app instances.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Queue, type Scope, Stream } from "effect"
import type * as SessionInvalidation from "../../src/SessionInvalidation.js"
import { UserId } from "../../src/User.js"
import { TokenHash } from "../../src/UserStore.js"

type Service = SessionInvalidation.SessionInvalidationService

/** A running subscription: `next` takes the next event, `until` skips to the first event of a tag. */
export const subscription = (service: Service) =>
  Effect.gen(function*() {
    const events = yield* Queue.unbounded<SessionInvalidation.Event>()
    yield* Effect.forkScoped(Stream.runForEach(service.subscribe, (event) => Queue.offer(events, event)))
    const until = (tag: SessionInvalidation.Event["_tag"]) =>
      Queue.take(events).pipe(Effect.repeat({ until: (event) => event._tag === tag }))
    return { next: Queue.take(events), until, events }
  })

/** Connected subscriptions; what is published after this returns reaches them. */
export const connectedTo = (service: Service) =>
  Effect.tap(subscription(service), (sub) => sub.until("Connected").pipe(Effect.timeout("10 seconds")))

const session = (n: number): SessionInvalidation.Invalidation => ({
  _tag: "Session",
  tokenHash: TokenHash.make(`hash-${n}`)
})

export const invalidationSuite = (
  name: string,
  instances: Effect.Effect<readonly [Service, Service], unknown, Scope.Scope>
) =>
  describe(`SessionInvalidation (${name})`, () => {
    it.live("starts Disconnected, then Connected", () =>
      Effect.gen(function*() {
        const [a] = yield* instances
        const sub = yield* subscription(a)
        assert.strictEqual((yield* sub.next)._tag, "Disconnected")
        yield* sub.until("Connected").pipe(Effect.timeout("10 seconds"))
      }).pipe(Effect.scoped))

    it.live("delivers every message to every subscriber, the publisher's own included", () =>
      Effect.gen(function*() {
        const [a, b] = yield* instances
        const onA = yield* connectedTo(a)
        const onB = yield* connectedTo(b)
        const alsoOnB = yield* connectedTo(b)
        const sent: Array<SessionInvalidation.Invalidation> = [
          session(1),
          { _tag: "User", userId: UserId.make("user-1") },
          { _tag: "Unverified" }
        ]
        yield* Effect.forEach(sent, a.publish, { discard: true })
        for (const sub of [onA, onB, alsoOnB]) {
          const received = yield* Effect.all([sub.until("Session"), sub.until("User"), sub.until("Unverified")])
          assert.deepStrictEqual<ReadonlyArray<SessionInvalidation.Event>>(received, sent)
        }
      }).pipe(Effect.scoped, Effect.timeout("20 seconds")))

    it.live("keeps each publisher's order", () =>
      Effect.gen(function*() {
        const [a, b] = yield* instances
        const onB = yield* connectedTo(b)
        const count = 50
        yield* Effect.forEach(Array.from({ length: count }, (_, i) => session(i)), a.publish, { discard: true })
        const received = yield* Effect.replicateEffect(onB.until("Session"), count)
        assert.deepStrictEqual(received, Array.from({ length: count }, (_, i) => session(i)))
      }).pipe(Effect.scoped, Effect.timeout("20 seconds")))
  })
