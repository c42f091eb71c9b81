/**
 * The in-process channel: the port's contract, its simulated loss, and the message encoding.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as SessionInvalidation from "../../src/SessionInvalidation.js"
import { UserId } from "../../src/User.js"
import { connectedTo, invalidationSuite } from "../suites/SessionInvalidationSuite.js"

invalidationSuite(
  "memory",
  Effect.map(SessionInvalidation.makeMemory, (channel) => [channel, channel] as const)
)

describe("SessionInvalidation (memory)", () => {
  it.live("says Disconnected on a loss, drops what is published meanwhile, and Connected once back", () =>
    Effect.gen(function*() {
      const channel = yield* SessionInvalidation.makeMemory
      const sub = yield* connectedTo(channel)
      yield* channel.disconnect
      assert.strictEqual((yield* sub.next)._tag, "Disconnected")
      yield* channel.publish({ _tag: "Unverified" })
      yield* channel.reconnect
      assert.strictEqual((yield* sub.next)._tag, "Connected")
      yield* channel.publish({ _tag: "User", userId: UserId.make("u") })
      assert.deepStrictEqual(yield* sub.next, { _tag: "User", userId: UserId.make("u") })
    }).pipe(Effect.scoped))

  it("encodes to one line of JSON and ignores what is not a message", () => {
    const message: SessionInvalidation.Invalidation = { _tag: "User", userId: UserId.make("u-1") }
    assert.deepStrictEqual(SessionInvalidation.decode(SessionInvalidation.encode(message)), Option.some(message))
    assert.isTrue(Option.isNone(SessionInvalidation.decode("{\"_tag\":\"Other\"}")))
    assert.isTrue(Option.isNone(SessionInvalidation.decode("not json")))
  })
})
