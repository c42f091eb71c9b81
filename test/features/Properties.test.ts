/**
 * Arbitrary strings at every input of every public operation: each call ends in a success or a typed failure from
 * its declared union, never a defect or an interruption. Inputs are sometimes the real value (a registered name, a
 * live session, a pending token), so the deeper paths run too. `effect/FastCheck` is fast-check, re-exported by
 * `effect` for `it.prop`.
 */
import { expect, layer } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Redacted } from "effect"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { lastToken, password } from "../support/fixtures.js"

const real = Symbol("real")
type Input = string | typeof real

const huge = [
  "a".repeat(100_000),
  "\u00e9".repeat(50_000),
  "𝒜".repeat(30_000),
  "\u0000".repeat(10_000),
  "@".repeat(5000)
]
const rtl = ["\u202e", "\u200f", "مرحبا", "שלום", "\u202ealice@example.com", "user\u202e@moc.elpmaxe"]

const anyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: "binary-ascii", maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 70 }),
  // any UTF-16 units: lone surrogates and control characters included
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 80 }).map((units) => String.fromCharCode(...units)),
  fc.tuple(
    fc.constantFrom("Alice", "alice@example.com", password),
    fc.constantFrom("\n", "\r\n", "\u0000", "\t", "\u007f")
  )
    .map(([a, b]) => a + b),
  fc.string({ unit: fc.constantFrom(...rtl), maxLength: 5 }),
  fc.constantFrom(...huge),
  fc.constant(""),
  fc.string({
    unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
    minLength: 43,
    maxLength: 43
  })
)

/** Mostly arbitrary, sometimes the real value of the fixture. */
const input: fc.Arbitrary<Input> = fc.oneof({ weight: 4, arbitrary: anyString }, {
  weight: 1,
  arbitrary: fc.constant(real)
})
/** A secret input, as a string or `Redacted`. */
const secret = fc.tuple(input, fc.boolean())

const resolve = (value: Input, actual: string): string => value === real ? actual : value
const resolveSecret = ([value, redacted]: readonly [Input, boolean], actual: string) =>
  redacted ? Redacted.make(resolve(value, actual)) : resolve(value, actual)

let counter = 0

/** A verified, logged-in user with a pending reset token, and an unverified one with its verification token. */
const fixture = Effect.gen(function*() {
  const h = yield* UserHarbor
  const n = counter++
  const user = { username: `Prop${n}`, email: `prop${n}@example.com`, password }
  yield* h.register(user)
  yield* h.verifyEmail(yield* lastToken("VerificationEmail", user.email))
  const session = yield* h.login({ username: user.username, password })
  yield* h.sendPasswordReset(user.email)
  const pending = { username: `Pending${n}`, email: `pending${n}@example.com`, password }
  yield* h.register(pending)
  return {
    ...user,
    session: Redacted.value(session.token),
    sessionId: session.id,
    reset: yield* lastToken("PasswordResetEmail", user.email),
    verification: yield* lastToken("VerificationEmail", pending.email)
  }
})

type Fixture = Effect.Effect.Success<typeof fixture>

const expectTyped = (exit: Exit.Exit<unknown, { readonly _tag: string }>, allowed: ReadonlyArray<string>) => {
  if (Exit.isSuccess(exit)) return
  expect(Cause.isDie(exit.cause), Cause.pretty(exit.cause)).toBe(false)
  expect(Cause.isInterrupted(exit.cause)).toBe(false)
  expect(Cause.isFailType(exit.cause), Cause.pretty(exit.cause)).toBe(true)
  if (Cause.isFailType(exit.cause)) expect(allowed).toContain(exit.cause.error._tag)
}

const options = { timeout: 120_000, fastCheck: { numRuns: 100 } }

layer(UserHarborTest.layer, { timeout: "60 seconds" })("every operation given arbitrary input", (it) => {
  const check = <A>(
    name: string,
    arbitrary: fc.Arbitrary<A>,
    allowed: ReadonlyArray<string>,
    run: (f: Fixture, args: A) => Effect.Effect<unknown, { readonly _tag: string }, UserHarbor>
  ) =>
    it.effect.prop(name, [arbitrary], ([args]) =>
      Effect.gen(function*() {
        const f = yield* fixture
        expectTyped(yield* Effect.exit(run(f, args)), allowed)
      }), options)

  const harbor = (f: (h: UserHarbor["Type"]) => Effect.Effect<unknown, { readonly _tag: string }>) =>
    Effect.flatMap(UserHarbor, f)

  check("register", fc.tuple(input, input, secret), [
    "InvalidUsername",
    "InvalidEmail",
    "WeakPassword",
    "UsernameTaken",
    "EmailDeliveryError",
    "Busy",
    "StoreError"
  ], (f, [username, email, pw]) =>
    harbor((h) =>
      h.register({
        username: resolve(username, f.username),
        email: resolve(email, f.email),
        password: resolveSecret(pw, password)
      })
    ))

  check(
    "verifyEmail",
    fc.tuple(secret),
    ["InvalidToken", "StoreError"],
    (f, [token]) => harbor((h) => h.verifyEmail(resolveSecret(token, f.verification)))
  )

  check(
    "resendVerification",
    fc.tuple(input),
    ["InvalidEmail", "EmailDeliveryError", "StoreError"],
    (f, [email]) => harbor((h) => h.resendVerification(resolve(email, f.email)))
  )

  check(
    "sendPasswordReset",
    fc.tuple(input),
    ["InvalidEmail", "EmailDeliveryError", "StoreError"],
    (f, [email]) => harbor((h) => h.sendPasswordReset(resolve(email, f.email)))
  )

  check("login", fc.tuple(fc.boolean(), input, secret), [
    "InvalidCredentials",
    "EmailNotVerified",
    "TooManyAttempts",
    "Busy",
    "StoreError"
  ], (
    f,
    [byName, who, pw]
  ) =>
    harbor((h) =>
      h.login(
        byName
          ? { username: resolve(who, f.username), password: resolveSecret(pw, password) }
          : { email: resolve(who, f.email), password: resolveSecret(pw, password) }
      )
    ))

  check(
    "verifySession",
    fc.tuple(secret),
    ["StoreError"],
    (f, [token]) => harbor((h) => h.verifySession(resolveSecret(token, f.session)))
  )

  const sessionOps = [
    "validateSession",
    "getCurrentUser",
    "logout",
    "logoutAll",
    "listSessions",
    "revokeOtherSessions"
  ] as const
  for (const op of sessionOps) {
    check(
      op,
      fc.tuple(secret),
      ["InvalidSession", "StoreError"],
      (f, [token]) => harbor((h) => h[op](resolveSecret(token, f.session)))
    )
  }

  const revokeErrors = ["InvalidSession", "SessionNotFound", "StoreError"]
  check(
    "revokeSession",
    fc.tuple(secret, input),
    revokeErrors,
    (f, [token, id]) => harbor((h) => h.revokeSession(resolveSecret(token, f.session), resolve(id, f.sessionId)))
  )

  check("changePassword", fc.tuple(secret, secret, secret), [
    "InvalidSession",
    "InvalidCredentials",
    "WeakPassword",
    "Busy",
    "StoreError"
  ], (
    f,
    [token, oldPassword, newPassword]
  ) =>
    harbor((h) =>
      h.changePassword({
        sessionToken: resolveSecret(token, f.session),
        oldPassword: resolveSecret(oldPassword, password),
        newPassword: resolveSecret(newPassword, "a-fresh-and-uncommon-passphrase")
      })
    ))

  check(
    "resetPassword",
    fc.tuple(secret, secret),
    ["InvalidToken", "WeakPassword", "Busy", "StoreError"],
    (f, [token, newPassword]) =>
      harbor((h) =>
        h.resetPassword({
          token: resolveSecret(token, f.reset),
          newPassword: resolveSecret(newPassword, "a-fresh-and-uncommon-passphrase")
        })
      )
  )

  check(
    "deleteAccount",
    fc.tuple(secret, secret),
    ["InvalidSession", "InvalidCredentials", "Busy", "StoreError"],
    (f, [token, pw]) =>
      harbor((h) =>
        h.deleteAccount({ sessionToken: resolveSecret(token, f.session), password: resolveSecret(pw, password) })
      )
  )
})
