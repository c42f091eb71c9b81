/**
 * Observability without leaks: a full account flow runs under a recording tracer (spans with their attributes,
 * events, links and end status), a recording logger and the metric registry. Every public operation must leave a
 * `UserHarbor.<op>` span carrying its outcome, the login and hashing metrics must count what happened, and no
 * password, password hash, raw token, token hash or the secret key may appear in any of it.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Effect,
  Exit,
  HashMap,
  List,
  Logger,
  LogLevel,
  Metric,
  Option,
  Redacted,
  TestClock,
  Tracer
} from "effect"
import * as util from "node:util"
import { Secret, TOTP } from "otpauth"
import { outcomeAttribute, withOutcome } from "../../src/internal/observe.js"
import * as Metrics from "../../src/Metrics.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { origin, passkeyOptions } from "../suites/PasskeysSuite.js"
import {
  alice,
  bob,
  bobPassword,
  lastToken,
  newPassword,
  password,
  setFailing,
  storedUser,
  tokenHash
} from "../support/fixtures.js"
import { SoftAuthenticator } from "../support/SoftAuthenticator.js"

const resetPassword = "a-third-password-after-reset"

/** A span that records what the library reports on it, delegating to the native span. */
class RecordingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly events: Array<{ readonly name: string; readonly attributes: unknown }> = []
  constructor(readonly inner: Tracer.Span) {}
  get name() {
    return this.inner.name
  }
  get spanId() {
    return this.inner.spanId
  }
  get traceId() {
    return this.inner.traceId
  }
  get parent() {
    return this.inner.parent
  }
  get context() {
    return this.inner.context
  }
  get status() {
    return this.inner.status
  }
  get attributes() {
    return this.inner.attributes
  }
  get links() {
    return this.inner.links
  }
  get sampled() {
    return this.inner.sampled
  }
  get kind() {
    return this.inner.kind
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.inner.end(endTime, exit)
  }
  attribute(key: string, value: unknown) {
    this.inner.attribute(key, value)
  }
  event(name: string, startTime: bigint, attributes?: Record<string, unknown>) {
    this.events.push({ name, attributes })
    this.inner.event(name, startTime, attributes)
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>) {
    this.inner.addLinks(links)
  }
}

const isHarborSpan = (span: Tracer.AnySpan) => span._tag === "Span" && span.name.startsWith("UserHarbor.")

/** Everything a span exposes, printed deeply. */
const renderSpan = (span: RecordingSpan): string =>
  util.inspect({
    name: span.name,
    attributes: Object.fromEntries(span.attributes),
    events: span.events,
    links: span.links.map((link) => link.attributes),
    status: span.status._tag === "Ended"
      ? { exit: span.status.exit, pretty: Exit.isFailure(span.status.exit) ? Cause.pretty(span.status.exit.cause) : "" }
      : "not ended"
  }, { depth: 12, showHidden: true })

const loginCount = (outcome: string) =>
  Effect.map(Metric.value(Metric.tagged(Metrics.logins, "outcome", outcome)), (state) => state.count)
const hashCount = (operation: "hash" | "verify") =>
  Effect.map(Metric.value(Metric.tagged(Metrics.hashDuration, "operation", operation)), (state) => state.count)
const failureCount = Effect.map(Metric.value(Metrics.loginFailures), (state) => state.count)
const counts = Effect.all({
  ok: loginCount("ok"),
  invalid: loginCount("InvalidCredentials"),
  unverified: loginCount("EmailNotVerified"),
  failures: failureCount,
  hash: hashCount("hash"),
  verify: hashCount("verify")
})

describe("observability", () => {
  it.effect("every operation is a span with its outcome; metrics count; nothing secret is recorded", () =>
    Effect.gen(function*() {
      const spans: Array<RecordingSpan> = []
      const logs: Array<string> = []
      const native = yield* Effect.tracer
      const tracer = Tracer.make({
        span: (...args) => {
          const span = new RecordingSpan(native.span(...args))
          spans.push(span)
          return span
        },
        context: native.context
      })
      const logger = Logger.make((options) => {
        logs.push(util.inspect({
          message: options.message,
          level: options.logLevel.label,
          annotations: HashMap.toEntries(options.annotations),
          spans: List.toArray(options.spans),
          cause: Cause.pretty(options.cause)
        }, { depth: 10 }))
      })

      // What each call should end with, in call order.
      const expected: Array<readonly [string, string]> = []
      const tokens: Array<string> = []
      const hashes: Array<string> = []
      const factorSecrets: Array<string> = []
      const call = <A, E, R>(op: string, outcome: string, effect: Effect.Effect<A, E, R>) => {
        expected.push([`UserHarbor.${op}`, outcome])
        return Effect.option(effect)
      }
      const keepHash = Effect.flatMap(
        storedUser(alice.email),
        (user) => Effect.sync(() => Option.map(user, (u) => hashes.push(u.passwordHash)))
      )

      const { after, before } = yield* Effect.gen(function*() {
        const h = yield* UserHarbor
        const before = yield* counts
        yield* call("register", "ok", h.register(alice))
        yield* keepHash
        yield* call("register", "UsernameTaken", h.register({ ...bob, username: "ALICE" }))
        yield* call("register", "ok", h.register(bob))
        yield* call("verifyEmail", "InvalidToken", h.verifyEmail("A".repeat(43)))
        yield* call("resendVerification", "ok", h.resendVerification(alice.email))
        const verification = yield* lastToken("VerificationEmail", alice.email)
        tokens.push(verification, yield* lastToken("VerificationEmail", bob.email))
        yield* call("verifyEmail", "ok", h.verifyEmail(verification))
        yield* call("login", "InvalidCredentials", h.login({ username: alice.username, password: "wrong-password" }))
        yield* call("login", "InvalidCredentials", h.login({ email: "nobody@example.com", password }))
        yield* call("login", "EmailNotVerified", h.login({ username: bob.username, password: bobPassword }))
        const session = yield* h.login({ email: alice.email, password: Redacted.make(password) })
        expected.push(["UserHarbor.login", "ok"])
        const other = yield* h.login({ username: alice.username, password })
        expected.push(["UserHarbor.login", "ok"])
        const third = yield* h.login({ username: alice.username, password })
        expected.push(["UserHarbor.login", "ok"])
        tokens.push(...[session, other, third].map((s) => Redacted.value(s.token)))
        yield* call("verifySession", "ok", h.verifySession(session.token))
        yield* call("validateSession", "ok", h.validateSession(Redacted.value(session.token)))
        yield* call("validateSession", "InvalidSession", h.validateSession("garbage"))
        yield* call("getCurrentUser", "ok", h.getCurrentUser(session.token))
        yield* call("listSessions", "ok", h.listSessions(session.token))
        yield* call("revokeSession", "ok", h.revokeSession(session.token, other.id))
        yield* call("revokeSession", "SessionNotFound", h.revokeSession(session.token, other.id))
        yield* call("revokeOtherSessions", "ok", h.revokeOtherSessions(session.token))
        yield* call("logout", "InvalidSession", h.logout(third.token))
        yield* call(
          "changePassword",
          "InvalidCredentials",
          h.changePassword({
            sessionToken: session.token,
            oldPassword: "wrong-password",
            newPassword
          })
        )
        yield* call(
          "changePassword",
          "WeakPassword",
          h.changePassword({
            sessionToken: session.token,
            oldPassword: password,
            newPassword: "Alice@example.com"
          })
        )
        // The notice fails: the change stands and a warning is logged.
        yield* setFailing(true)
        const changed = yield* h.changePassword({ sessionToken: session.token, oldPassword: password, newPassword })
        expected.push(["UserHarbor.changePassword", "ok"])
        tokens.push(Redacted.value(changed.token))
        yield* keepHash
        yield* call("sendPasswordReset", "EmailDeliveryError", h.sendPasswordReset(alice.email))
        tokens.push(yield* lastToken("PasswordResetEmail", alice.email).pipe(Effect.orElseSucceed(() => "none")))
        yield* setFailing(false)
        yield* call("sendPasswordReset", "ok", h.sendPasswordReset(alice.email))
        const reset = yield* lastToken("PasswordResetEmail", alice.email)
        tokens.push(reset)
        yield* call("resetPassword", "WeakPassword", h.resetPassword({ token: reset, newPassword: "short" }))
        yield* call("resetPassword", "ok", h.resetPassword({ token: Redacted.make(reset), newPassword: resetPassword }))
        yield* call("resetPassword", "InvalidToken", h.resetPassword({ token: reset, newPassword: resetPassword }))
        yield* keepHash
        const last = yield* h.login({ username: alice.username, password: resetPassword })
        expected.push(["UserHarbor.login", "ok"])
        tokens.push(Redacted.value(last.token))
        yield* TestClock.adjust("31 days")
        yield* call("getCurrentUser", "InvalidSession", h.getCurrentUser(last.token))
        const final = yield* h.login({ username: alice.username, password: resetPassword })
        expected.push(["UserHarbor.login", "ok"])
        tokens.push(Redacted.value(final.token))
        yield* call("logoutAll", "ok", h.logoutAll(final.token))
        const again = yield* h.login({ username: alice.username, password: resetPassword })
        expected.push(["UserHarbor.login", "ok"])
        tokens.push(Redacted.value(again.token))
        yield* call("logout", "ok", h.logout(again.token))
        const gone = yield* h.login({ username: alice.username, password: resetPassword })
        expected.push(["UserHarbor.login", "ok"])
        tokens.push(Redacted.value(gone.token))
        yield* call("deleteAccount", "InvalidCredentials", h.deleteAccount({ sessionToken: gone.token, password }))
        yield* call("deleteAccount", "ok", h.deleteAccount({ sessionToken: gone.token, password: resetPassword }))
        const after = yield* counts

        // Second factors, after the metrics are read (these calls log in and hash on their own).
        const carol = { username: "Carol", email: "carol@example.com", password }
        yield* call("register", "ok", h.register(carol))
        const carolVerification = yield* lastToken("VerificationEmail", carol.email)
        yield* call("verifyEmail", "ok", h.verifyEmail(carolVerification))
        const carolSession = yield* h.login({ username: carol.username, password })
        expected.push(["UserHarbor.login", "ok"])
        const sessionToken = carolSession.token
        yield* call("listFactors", "ok", h.listFactors(sessionToken))
        yield* call("recentActivity", "ok", h.recentActivity(sessionToken))
        const carolNew = "carol.new@example.com"
        yield* call(
          "requestEmailChange",
          "InvalidCredentials",
          h.requestEmailChange({ sessionToken, password: "wrong-password", newEmail: carolNew })
        )
        yield* call("requestEmailChange", "ok", h.requestEmailChange({ sessionToken, password, newEmail: carolNew }))
        yield* call("pendingEmailChange", "ok", h.pendingEmailChange(sessionToken))
        yield* call("recentActivity", "ok", h.recentActivity(sessionToken))
        const emailChangeToken = yield* lastToken("EmailChangeConfirmationEmail", carolNew)
        yield* call("confirmEmailChange", "ok", h.confirmEmailChange(emailChangeToken))
        yield* call("confirmEmailChange", "InvalidToken", h.confirmEmailChange(emailChangeToken))
        const revertToken = yield* lastToken("EmailChangedEmail", carol.email)
        yield* call("revertEmailChange", "InvalidToken", h.revertEmailChange(emailChangeToken))
        factorSecrets.push(emailChangeToken, revertToken)
        const enrollment = yield* h.beginTotpEnrollment({ sessionToken, password })
        expected.push(["UserHarbor.beginTotpEnrollment", "ok"])
        const timestamp = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const code = TOTP.generate({ secret: Secret.fromBase32(Redacted.value(enrollment.secret)), timestamp })
        const wrongCode = code === "000000" ? "000001" : "000000"
        yield* call("confirmTotpEnrollment", "InvalidCode", h.confirmTotpEnrollment({ sessionToken, code: wrongCode }))
        const recoveryCodes = yield* h.confirmTotpEnrollment({ sessionToken, code })
        expected.push(["UserHarbor.confirmTotpEnrollment", "ok"])
        const required = yield* Effect.flip(h.login({ username: carol.username, password }))
        expected.push(["UserHarbor.login", "SecondFactorRequired"])
        const challenge = required._tag === "SecondFactorRequired" ? Redacted.value(required.challenge) : "none"
        yield* call("completeLogin", "InvalidCode", h.completeLogin({ challenge, code: wrongCode }))
        const completed = yield* h.completeLogin({ challenge, code: recoveryCodes[0] ?? "" })
        expected.push(["UserHarbor.completeLogin", "ok"])
        const regenerated = yield* h.regenerateRecoveryCodes({ sessionToken, password })
        expected.push(["UserHarbor.regenerateRecoveryCodes", "ok"])
        yield* call("disableTotp", "ok", h.disableTotp({ sessionToken, password }))
        factorSecrets.push(
          carolVerification,
          Redacted.value(sessionToken),
          Redacted.value(completed.token),
          Redacted.value(enrollment.secret),
          Redacted.value(enrollment.uri),
          code,
          challenge,
          ...[...recoveryCodes, ...regenerated].map(Redacted.value)
        )

        // Passkeys, after the metrics too: a software authenticator registers one, signs in with it and re-checks. A
        // WebAuthn challenge is no secret (it goes to the browser in the clear and proves nothing without a signature).
        const dora = { username: "Dora", email: "dora@example.com", password }
        yield* call("register", "ok", h.register(dora))
        const doraVerification = yield* lastToken("VerificationEmail", dora.email)
        yield* call("verifyEmail", "ok", h.verifyEmail(doraVerification))
        const doraSession = yield* h.login({ username: dora.username, password })
        expected.push(["UserHarbor.login", "ok"])
        const authenticator = new SoftAuthenticator(origin)
        const creation = yield* h.beginPasskeyRegistration(doraSession.token)
        expected.push(["UserHarbor.beginPasskeyRegistration", "ok"])
        const passkey = yield* h.finishPasskeyRegistration({
          sessionToken: doraSession.token,
          response: authenticator.register(creation),
          name: "Laptop"
        })
        expected.push(["UserHarbor.finishPasskeyRegistration", "ok"])
        yield* call("listPasskeys", "ok", h.listPasskeys(doraSession.token))
        yield* call("renamePasskey", "ok", h.renamePasskey(doraSession.token, passkey.id, "Work laptop"))
        const phished = yield* h.beginPasskeyLogin()
        expected.push(["UserHarbor.beginPasskeyLogin", "ok"])
        yield* call(
          "finishPasskeyLogin",
          "InvalidPasskey",
          h.finishPasskeyLogin(authenticator.authenticate(phished, { origin: "https://evil.example.net" }))
        )
        const request = yield* h.beginPasskeyLogin()
        expected.push(["UserHarbor.beginPasskeyLogin", "ok"])
        const passkeySession = yield* h.finishPasskeyLogin(authenticator.authenticate(request))
        expected.push(["UserHarbor.finishPasskeyLogin", "ok"])
        yield* call("beginPasskeyReauthentication", "ok", h.beginPasskeyReauthentication(passkeySession.token))
        yield* call("removePasskey", "ok", h.removePasskey(passkeySession.token, passkey.id))
        yield* call("removePasskey", "PasskeyNotFound", h.removePasskey(passkeySession.token, passkey.id))
        factorSecrets.push(
          doraVerification,
          Redacted.value(doraSession.token),
          Redacted.value(passkeySession.token)
        )
        return { before, after }
      }).pipe(
        Effect.provide(UserHarborTest.layerWith({ passkeys: passkeyOptions })),
        Effect.withTracer(tracer),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )

      // Spans: every call is a top-level UserHarbor span with the outcome it ended with; nested ones have one too.
      const harborSpans = spans.filter(isHarborSpan)
      const topLevel = harborSpans.filter((span) => !Option.exists(span.parent, isHarborSpan))
      expect(topLevel.map((span) => [span.name, span.attributes.get(outcomeAttribute)])).toEqual(expected)
      for (const span of harborSpans) {
        expect(span.status._tag).toBe("Ended")
        expect(span.attributes.get(outcomeAttribute), span.name).toBeTypeOf("string")
      }
      const operations = Object.keys(yield* Effect.provide(UserHarbor, UserHarborTest.layer)).map((op) =>
        `UserHarbor.${op}`
      )
      expect(operations).toHaveLength(35)
      expect(new Set(topLevel.map((span) => span.name))).toEqual(new Set(operations))

      // Metrics: 7 successful logins, 3 refused (2 InvalidCredentials, 1 EmailNotVerified).
      expect({
        ok: after.ok - before.ok,
        invalid: after.invalid - before.invalid,
        unverified: after.unverified - before.unverified,
        failures: after.failures - before.failures
      }).toEqual({ ok: 7, invalid: 2, unverified: 1, failures: 2 })
      // Hashes: 3 registrations (a taken name is found only at the insert, after hashing), 1 change, 1 reset.
      // Verifies: 10 logins, 3 password changes (the weak new password is refused after the old one was checked),
      // 2 deletions.
      expect({ hash: after.hash - before.hash, verify: after.verify - before.verify }).toEqual({ hash: 5, verify: 15 })

      expect(logs.some((line) => line.includes("notice not delivered"))).toBe(true)

      // Nothing secret anywhere.
      expect(tokens.filter((t) => t !== "none")).toHaveLength(11)
      expect(factorSecrets.filter((t) => t !== "none")).toHaveLength(32)
      expect(hashes).toHaveLength(3)
      const secrets = [
        password,
        newPassword,
        resetPassword,
        bobPassword,
        "wrong-password",
        ...hashes,
        ...hashes.map((hash) => hash.split("$").at(-1) ?? hash),
        ...tokens.filter((t) => t !== "none"),
        ...tokens.filter((t) => t !== "none").map(tokenHash),
        Redacted.value(UserHarborTest.testSecretKey),
        ...factorSecrets
      ]
      const snapshot = util.inspect(yield* Metric.snapshot, { depth: 12, showHidden: true })
      const recorded: ReadonlyArray<readonly [string, string]> = [
        ...spans.map((span) => [`span ${span.name}`, renderSpan(span)] as const),
        ...logs.map((line) => ["a log line", line] as const),
        ["the metric snapshot", snapshot]
      ]
      for (const [where, text] of recorded) {
        for (const secret of secrets) {
          if (text.includes(secret)) expect.fail(`${where} shows a secret: ${text.slice(0, 400)}`)
        }
      }
      expect(snapshot).toContain("userharbor_logins_total")
      expect(snapshot).toContain("userharbor_password_hash_duration")
    }))

  it.effect("the outcome of a defect or an interruption is recorded too", () =>
    Effect.gen(function*() {
      const spans: Array<RecordingSpan> = []
      const native = yield* Effect.tracer
      const tracer = Tracer.make({
        span: (...args) => {
          const span = new RecordingSpan(native.span(...args))
          spans.push(span)
          return span
        },
        context: native.context
      })
      const fn = (outcome: "die" | "interrupt") =>
        Effect.fn("UserHarbor.probe")(function*() {
          return yield* outcome === "die" ? Effect.die("boom") : Effect.interrupt
        }, withOutcome)
      yield* Effect.exit(fn("die")()).pipe(Effect.withTracer(tracer))
      yield* Effect.exit(fn("interrupt")()).pipe(Effect.withTracer(tracer))
      expect(spans.map((span) => span.attributes.get(outcomeAttribute))).toEqual(["defect", "interrupted"])
    }))
})
