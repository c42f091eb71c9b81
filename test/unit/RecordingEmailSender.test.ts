import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { EmailSender, Recipient, VerificationEmail } from "../../src/EmailSender.js"
import * as RecordingEmailSender from "../../src/RecordingEmailSender.js"

const verification = (email: string, token: string) =>
  new VerificationEmail({
    to: Recipient.make({ username: "alice", email }),
    token: Redacted.make(token),
    expiresAt: new Date(0)
  })

describe("RecordingEmailSender", () => {
  it.effect("lastToken finds an address whatever its case, as the library compares addresses", () =>
    Effect.gen(function*() {
      const sender = yield* EmailSender
      const recorder = yield* RecordingEmailSender.RecordingEmailSender
      yield* sender.send(verification("Alice@Example.COM", "first-token"))
      yield* sender.send(verification("alice@example.com", "second-token"))
      yield* sender.send(verification("bob@example.com", "bobs-token"))
      for (const asked of ["alice@example.com", "ALICE@EXAMPLE.COM", " Alice@example.com "]) {
        expect(yield* recorder.lastToken("VerificationEmail", asked)).toEqual(Option.some("second-token"))
      }
      yield* recorder.clear
      yield* sender.send(verification("Alice@Example.COM", "first-token"))
      expect(yield* recorder.lastToken("VerificationEmail", "alice@example.com")).toEqual(Option.some("first-token"))
      expect(yield* recorder.lastToken("PasswordResetEmail", "alice@example.com")).toEqual(Option.none())
      expect(yield* recorder.lastToken("VerificationEmail", "alicia@example.com")).toEqual(Option.none())
    }).pipe(Effect.provide(RecordingEmailSender.layer)))
})
