/**
 * The fixture library of the `UserHarbor` tests: the users and passwords, the HMAC of a raw token, what was mailed
 * (drained from the outbox first in outbox mode, through `PendingDelivery`), and what the store holds, read through
 * the `UserStore` port so the same helpers work on every backend. The behaviour suite and the feature tests share it.
 */
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { createHmac } from "node:crypto"
import * as Email from "../../src/Email.js"
import type { EmailMessage } from "../../src/EmailSender.js"
import type { TokenPurpose } from "../../src/Errors.js"
import * as OutboxWorker from "../../src/OutboxWorker.js"
import { RecordingEmailSender, type TokenMessageKind } from "../../src/RecordingEmailSender.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import type { RegisterInput } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import * as Username from "../../src/Username.js"
import { TokenHash, UserStore } from "../../src/UserStore.js"

/** The HMAC the store keeps for a raw token, under the test kit's key. */
export const tokenHash = (token: string | Redacted.Redacted<string>): TokenHash =>
  TokenHash.make(
    createHmac("sha256", Redacted.value(UserHarborTest.testSecretKey))
      .update(typeof token === "string" ? token : Redacted.value(token))
      .digest("hex")
  )

export const password = "purple-monkey-dishwasher-42"
export const newPassword = "seven-green-lanterns-at-dawn"
export const alice: RegisterInput = { username: "Alice", email: "alice@example.com", password }
export const bobPassword = "steady-rain-over-lisbon"
export const bob: RegisterInput = { username: "Bob", email: "bob@example.com", password: bobPassword }

export const recorder = RecordingEmailSender
export const harbor = UserHarbor

/**
 * Hands over the messages the operations have written but not yet sent: nothing to do inline (the default); in
 * outbox mode, a worker's `drain`.
 */
export class PendingDelivery extends Context.Reference<PendingDelivery>()("test/PendingDelivery", {
  defaultValue: (): Effect.Effect<void> => Effect.void
}) {}

export const deliverPending = Effect.flatten(PendingDelivery)

/** Outbox mode's `PendingDelivery`: a worker over the kit's store, sender and config. */
export const drainOutbox = Layer.effect(
  PendingDelivery,
  Effect.map(OutboxWorker.make(), (worker) => Effect.orDie(worker.drain))
).pipe(Layer.orDie)

/** The raw token of the newest message of `kind` to `email`; fails the test when there is none. */
export const lastToken = (kind: TokenMessageKind, email: string) =>
  Effect.zipRight(deliverPending, Effect.flatMap(RecordingEmailSender, (r) => Effect.flatten(r.lastToken(kind, email))))

export const messages = Effect.zipRight(deliverPending, Effect.flatMap(RecordingEmailSender, (r) => r.messages))
/** Forgets what was sent so far, including what was still waiting in the outbox. */
export const clearMessages = Effect.zipRight(deliverPending, Effect.flatMap(RecordingEmailSender, (r) => r.clear))
export const setFailing = (failing: boolean) => Effect.flatMap(RecordingEmailSender, (r) => r.setFailing(failing))

export const registerVerified = (input: RegisterInput) =>
  Effect.gen(function*() {
    const h = yield* UserHarbor
    yield* h.register(input)
    yield* h.verifyEmail(yield* lastToken("VerificationEmail", input.email))
  })

export const loginAs = (input: RegisterInput) =>
  Effect.flatMap(UserHarbor, (h) => h.login({ username: input.username, password: input.password }))

/** Registers, verifies and logs in. */
export const loggedIn = (input: RegisterInput) => Effect.zipRight(registerVerified(input), loginAs(input))

/** The stored user, read through the port. */
export const storedUser = (email: string) =>
  Effect.flatMap(UserStore, (store) =>
    Option.match(Email.validate(email).pipe(Option.getRight), {
      onNone: () => Effect.succeedNone,
      onSome: (valid) => store.findUserByEmail(valid.key)
    }))

export const storedUserByName = (username: string) =>
  Effect.flatMap(UserStore, (store) => store.findUserByUsername(Username.canonical(username.normalize("NFC"))))

export const storedToken = (purpose: TokenPurpose, token: string | Redacted.Redacted<string>) =>
  Effect.flatMap(UserStore, (store) => store.findToken(purpose, tokenHash(token)))

export const storedSession = (token: string | Redacted.Redacted<string>) =>
  Effect.flatMap(UserStore, (store) => store.findSession(tokenHash(token)))

/** `"<message kind> <address>"` for each message, for readable comparisons. */
export const tags = (all: ReadonlyArray<EmailMessage>) => all.map((m) => `${m._tag} ${m.to.email}`)
