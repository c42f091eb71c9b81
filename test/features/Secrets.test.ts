/**
 * No secret leaks: a full flow (with failures) runs while logs and spans are captured, and every error, session, user
 * and message it produced is printed every way a program might print it.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, HashMap, List, Logger, LogLevel, Redacted, TestClock } from "effect"
import * as util from "node:util"
import { EmailTaken, StoreError } from "../../src/Errors.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import {
  alice,
  bob,
  bobPassword,
  lastToken,
  messages,
  newPassword,
  password,
  setFailing,
  tokenHash
} from "../support/fixtures.js"
import { recording } from "../support/recordingTracer.js"
import { renderings } from "../support/renderings.js"

const resetPassword = "a-third-password-after-reset"
const weakSecretPassword = "Alice@example.com"

const expectNoSecret = (label: string, texts: ReadonlyArray<string>, secrets: ReadonlyArray<string>) => {
  for (const text of texts) {
    for (const secret of secrets) {
      if (text.includes(secret)) expect.fail(`${label} shows a secret: ${text.slice(0, 300)}`)
    }
  }
}

describe("secrets", () => {
  it.effect("never appear in errors, sessions, users, messages, logs or spans", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make((options) => {
        logs.push(util.inspect({
          message: options.message,
          level: options.logLevel.label,
          annotations: HashMap.toEntries(options.annotations),
          spans: List.toArray(options.spans),
          cause: Cause.pretty(options.cause)
        }, { depth: 10 }))
      })
      const { spans, tracer } = yield* recording

      const produced: Array<unknown> = []
      const errors: Array<unknown> = []
      const tokens: Array<string> = []
      const fail = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Effect.tap(Effect.flip(effect), (error) => Effect.sync(() => errors.push(error)))
      const keep = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Effect.tap(effect, (value) => Effect.sync(() => produced.push(value)))

      yield* Effect.gen(function*() {
        const h = yield* UserHarbor
        yield* Effect.logDebug("flow starts")
        yield* fail(h.register({ ...alice, username: "a b" }))
        yield* fail(h.register({ ...alice, email: "alice@example.com\n" }))
        yield* fail(h.register({ ...alice, password: weakSecretPassword }))
        yield* setFailing(true)
        yield* fail(h.register(alice))
        yield* setFailing(false)
        yield* h.resendVerification(alice.email)
        const verification = yield* lastToken("VerificationEmail", alice.email)
        tokens.push(verification)
        yield* fail(h.register({ ...alice, email: bob.email }))
        yield* h.register({ ...bob, email: "ALICE@example.com" })
        yield* fail(h.login({ username: alice.username, password: alice.password }))
        yield* fail(h.login({ username: alice.username, password: "wrong-password-here" }))
        yield* h.verifyEmail(Redacted.make(verification))
        yield* fail(h.verifyEmail(verification))
        const session = yield* keep(h.login({ email: alice.email, password: Redacted.make(password) }))
        tokens.push(Redacted.value(session.token))
        yield* keep(h.validateSession(session.token))
        yield* keep(h.getCurrentUser(session.token))
        yield* fail(h.changePassword({ sessionToken: session.token, oldPassword: password, newPassword: "weak" }))
        yield* setFailing(true)
        const changed = yield* keep(
          h.changePassword({ sessionToken: session.token, oldPassword: password, newPassword })
        )
        yield* setFailing(false)
        tokens.push(Redacted.value(changed.token))
        yield* h.sendPasswordReset(alice.email)
        const reset = yield* lastToken("PasswordResetEmail", alice.email)
        tokens.push(reset)
        yield* fail(h.resetPassword({ token: reset, newPassword: weakSecretPassword }))
        yield* h.resetPassword({ token: reset, newPassword: resetPassword })
        yield* fail(h.resetPassword({ token: reset, newPassword: resetPassword }))
        const last = yield* keep(h.login({ username: alice.username, password: resetPassword }))
        tokens.push(Redacted.value(last.token))
        yield* TestClock.adjust("31 days")
        yield* fail(h.getCurrentUser(last.token))
        const final = yield* h.login({ username: alice.username, password: resetPassword })
        tokens.push(Redacted.value(final.token))
        yield* fail(h.deleteAccount({ sessionToken: final.token, password: "wrong-password-here" }))
        yield* h.logoutAll(final.token)
        yield* fail(h.logout(final.token))
        const again = yield* h.login({ username: alice.username, password: resetPassword })
        tokens.push(Redacted.value(again.token))
        yield* h.deleteAccount({ sessionToken: again.token, password: resetPassword })
        produced.push(...(yield* messages))
      }).pipe(
        Effect.provide(UserHarborTest.layer),
        Effect.withTracer(tracer),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )

      errors.push(new EmailTaken(), new StoreError({ operation: "insertSession" }))
      expect(new Set(errors.map((e) => (e instanceof Error ? e.name : "?")))).toEqual(
        new Set([
          "InvalidUsername",
          "InvalidEmail",
          "WeakPassword",
          "EmailDeliveryError",
          "UsernameTaken",
          "EmailNotVerified",
          "InvalidCredentials",
          "InvalidToken",
          "InvalidSession",
          "EmailTaken",
          "StoreError"
        ])
      )
      expect(tokens).toHaveLength(7)
      expect(logs.some((line) => line.includes("notice not delivered"))).toBe(true)
      expect(spans.map((span) => span.name)).toContain("UserHarbor.login")

      const secrets = [
        password,
        newPassword,
        resetPassword,
        weakSecretPassword,
        bobPassword,
        ...tokens,
        ...tokens.map(tokenHash),
        Redacted.value(UserHarborTest.testSecretKey)
      ]
      for (const value of [...errors, ...produced]) expectNoSecret("a value", renderings(value), secrets)
      expectNoSecret("the logs", logs, secrets)
      for (const span of spans) {
        expectNoSecret(`span ${span.name}`, [
          util.inspect(span.attributes, { depth: 10 }),
          util.inspect(span.status, { depth: 10 })
        ], secrets)
      }
    }))

  it("a StoreError keeps its cause out of every rendering, Effect's included", () => {
    const hash = tokenHash("A".repeat(43))
    const error = new StoreError({ operation: "insertSession", cause: new Error(`duplicate key token_hash=${hash}`) })
    expectNoSecret(
      "StoreError",
      renderings(error),
      [hash]
    )
  })
})
