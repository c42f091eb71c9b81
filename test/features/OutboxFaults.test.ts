/**
 * The store failing at each statement of each multi-record operation, in outbox mode: afterwards the store (the
 * outbox included) equals its state before the call, so a message is never queued for data that was not written,
 * and data is never written without its message.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as OutboxWorker from "../../src/OutboxWorker.js"
import * as PasswordHasher from "../../src/PasswordHasher.js"
import * as RecordingEmailSender from "../../src/RecordingEmailSender.js"
import { UserHarborOutbox } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import * as Instrumented from "../support/InstrumentedStore.js"

const password = "Correct-Horse-Battery-9"
const newPassword = "Another-Strong-Secret-7"

// A fresh store per run, so each injected fault starts from the same state.
const kit = () =>
  UserHarborTest.layerOutboxWithStore(
    Instrumented.layer.pipe(
      Layer.provideMerge(Layer.merge(MemoryUserStore.layer, PasswordHasher.layerInsecureForTesting))
    )
  )

interface Fixture {
  readonly sessionToken: string
  readonly verifyToken: string
  readonly resetToken: string
}

const email = (name: string) => `${name}@example.com`

const drainAll = Effect.flatMap(OutboxWorker.make({}), (worker) => worker.drain).pipe(Effect.orDie)

// alice: registered, verified, logged in, with a live reset token; bob: registered, not verified.
const setup = Effect.gen(function*() {
  const harbor = yield* UserHarborOutbox
  const mail = yield* RecordingEmailSender.RecordingEmailSender
  yield* harbor.register({ username: "alice", email: email("alice"), password })
  yield* harbor.register({ username: "bob", email: email("bob"), password })
  // The messages are in the outbox; read their tokens by letting a worker deliver them to the recorder.
  yield* drainAll
  const aliceVerify = Option.getOrThrow(yield* mail.lastToken("VerificationEmail", email("alice")))
  yield* harbor.verifyEmail(aliceVerify)
  const session = yield* harbor.login({ username: "alice", password })
  yield* harbor.sendPasswordReset(email("alice"))
  yield* drainAll
  return {
    sessionToken: Redacted.value(session.token),
    verifyToken: Option.getOrThrow(yield* mail.lastToken("VerificationEmail", email("bob"))),
    resetToken: Option.getOrThrow(yield* mail.lastToken("PasswordResetEmail", email("alice")))
  }
})

type Operation = (fixture: Fixture) => Effect.Effect<unknown, unknown, UserHarborOutbox>

const operations: ReadonlyArray<readonly [string, Operation]> = [
  [
    "register (new address)",
    () => Effect.flatMap(UserHarborOutbox, (h) => h.register({ username: "carol", email: email("carol"), password }))
  ],
  [
    "register (taken address)",
    () => Effect.flatMap(UserHarborOutbox, (h) => h.register({ username: "mallory", email: email("alice"), password }))
  ],
  ["verifyEmail", (f) => Effect.flatMap(UserHarborOutbox, (h) => h.verifyEmail(f.verifyToken))],
  [
    "resetPassword",
    (f) => Effect.flatMap(UserHarborOutbox, (h) => h.resetPassword({ token: f.resetToken, newPassword }))
  ],
  [
    "changePassword",
    (f) =>
      Effect.flatMap(
        UserHarborOutbox,
        (h) => h.changePassword({ sessionToken: f.sessionToken, oldPassword: password, newPassword })
      )
  ],
  [
    "deleteAccount",
    (f) => Effect.flatMap(UserHarborOutbox, (h) => h.deleteAccount({ sessionToken: f.sessionToken, password }))
  ],
  ["sendPasswordReset", () => Effect.flatMap(UserHarborOutbox, (h) => h.sendPasswordReset(email("bob")))],
  ["resendVerification", () => Effect.flatMap(UserHarborOutbox, (h) => h.resendVerification(email("bob")))]
]

const snapshot = Effect.flatMap(MemoryUserStore.MemoryUserStore, (inspector) => inspector.snapshot)

describe("outbox: a store failing at each statement leaves the store as it was", () => {
  for (const [name, operation] of operations) {
    it.effect(name, () =>
      Effect.gen(function*() {
        // A clean run first: how many statements the operation makes, and what it writes.
        const statements = yield* Effect.gen(function*() {
          const fixture = yield* setup
          const instruments = yield* Instrumented.Instruments
          const before = yield* snapshot
          yield* instruments.failAt(undefined)
          yield* operation(fixture)
          const after = yield* snapshot
          // It did write something, or the fault runs below would prove nothing.
          assert.notDeepEqual(after, before)
          // verifyEmail sends nothing; every other operation here queues exactly one message.
          assert.strictEqual(after.outbox.length - before.outbox.length, name === "verifyEmail" ? 0 : 1)
          return (yield* instruments.counts).statements
        }).pipe(Effect.provide(kit()))
        assert.isAtLeast(statements.length, 2)

        for (let n = 1; n <= statements.length; n++) {
          yield* Effect.gen(function*() {
            const fixture = yield* setup
            const instruments = yield* Instrumented.Instruments
            const before = yield* snapshot
            yield* instruments.failAt(n)
            const error = yield* Effect.flip(operation(fixture))
            assert.deepInclude(error, { _tag: "StoreError", operation: Instrumented.injected }, `${n}`)
            const where = `a fault at statement ${n} (${statements[n - 1]})`
            assert.deepStrictEqual(yield* snapshot, before, `state after ${where}`)
          }).pipe(Effect.provide(kit()))
        }
      }))
  }
})
