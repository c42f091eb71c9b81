import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import * as MemoryUserStore from "../src/MemoryUserStore.js"
import * as PasswordHasher from "../src/PasswordHasher.js"
import { UserHarbor } from "../src/UserHarbor.js"
import * as UserHarborTest from "../src/UserHarborTest.js"
import { throttlingSuite } from "./ThrottlingSuite.js"
import { alice, password, registerVerified } from "./UserHarborSuite.js"

throttlingSuite("memory", () => MemoryUserStore.layer)

describe("UserHarbor with a bounded hasher (memory)", () => {
  it.effect("10 concurrent logins with 1 permit and a queue of 2: some Busy, the rest proceed, no defect", () =>
    Effect.gen(function*() {
      const inner = yield* Effect.provide(PasswordHasher.PasswordHasher, PasswordHasher.layerInsecureForTesting)
      const bounded = yield* PasswordHasher.bounded(inner, { permits: 1, maxQueue: 2 })
      const hasher = Layer.succeed(PasswordHasher.PasswordHasher, bounded)
      const kit = UserHarborTest.layerWithStore(MemoryUserStore.layer, {}, hasher)
      yield* Effect.gen(function*() {
        const users = Array.from({ length: 10 }, (_, i) => ({
          ...alice,
          username: `User${i}`,
          email: `user${i}@example.com`
        }))
        for (const user of users) yield* registerVerified(user)
        const h = yield* UserHarbor
        const exits = yield* Effect.all(
          users.map((user, i) =>
            Effect.exit(h.login({ username: user.username, password: i % 2 === 0 ? password : "wrong-password-here" }))
          ),
          { concurrency: "unbounded" }
        )
        const outcomes = exits.map((exit) =>
          Exit.isSuccess(exit) ? "ok" : Cause.isFailType(exit.cause) ? exit.cause.error._tag : Cause.pretty(exit.cause)
        )
        expect(outcomes.filter((o) => o === "Busy").length).toBeGreaterThan(0)
        expect(outcomes.filter((o) => o !== "Busy").length).toBeGreaterThanOrEqual(3)
        expect(outcomes.every((o) => ["ok", "InvalidCredentials", "Busy"].includes(o))).toBe(true)
      }).pipe(Effect.provide(kit))
    }))
})
