import type { Effect, Redacted } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type {
  AccountLocked,
  Busy,
  EmailDeliveryError,
  EmailNotVerified,
  InvalidChallenge,
  InvalidCode,
  InvalidCredentials,
  InvalidEmail,
  InvalidSession,
  InvalidToken,
  InvalidUsername,
  SecondFactorRequired,
  SessionNotFound,
  StoreError,
  TooManyAttempts,
  TotpAlreadyEnabled,
  TotpNotEnabled,
  UsernameTaken,
  WeakPassword
} from "../../src/Errors.js"
import type { Session, SessionSummary, User, ValidatedSession } from "../../src/User.js"
import type {
  FactorSummary,
  RecoveryCodes,
  TotpEnrollment,
  UserHarbor,
  UserHarborOutbox
} from "../../src/UserHarbor.js"

type Op = UserHarbor["Type"]
type ErrorOf<K extends keyof Op> = Effect.Effect.Error<ReturnType<Op[K]>>
type SuccessOf<K extends keyof Op> = Effect.Effect.Success<ReturnType<Op[K]>>
type ContextOf<K extends keyof Op> = Effect.Effect.Context<ReturnType<Op[K]>>

describe("UserHarbor error unions", () => {
  it("pins each operation's error channel", () => {
    expectTypeOf<ErrorOf<"register">>().toEqualTypeOf<
      | InvalidUsername
      | InvalidEmail
      | WeakPassword
      | UsernameTaken
      | TooManyAttempts
      | EmailDeliveryError
      | Busy
      | StoreError
    >()
    expectTypeOf<ErrorOf<"verifyEmail">>().toEqualTypeOf<InvalidToken | StoreError>()
    expectTypeOf<ErrorOf<"resendVerification">>().toEqualTypeOf<InvalidEmail | EmailDeliveryError | StoreError>()
    expectTypeOf<ErrorOf<"login">>().toEqualTypeOf<
      InvalidCredentials | EmailNotVerified | AccountLocked | SecondFactorRequired | TooManyAttempts | Busy | StoreError
    >()
    expectTypeOf<ErrorOf<"verifySession">>().toEqualTypeOf<StoreError>()
    expectTypeOf<ErrorOf<"validateSession">>().toEqualTypeOf<InvalidSession | StoreError>()
    expectTypeOf<ErrorOf<"getCurrentUser">>().toEqualTypeOf<InvalidSession | StoreError>()
    expectTypeOf<ErrorOf<"logout">>().toEqualTypeOf<InvalidSession | StoreError>()
    expectTypeOf<ErrorOf<"logoutAll">>().toEqualTypeOf<InvalidSession | StoreError>()
    expectTypeOf<ErrorOf<"changePassword">>().toEqualTypeOf<
      InvalidSession | InvalidCredentials | TooManyAttempts | WeakPassword | Busy | StoreError
    >()
    expectTypeOf<ErrorOf<"sendPasswordReset">>().toEqualTypeOf<InvalidEmail | EmailDeliveryError | StoreError>()
    expectTypeOf<ErrorOf<"resetPassword">>().toEqualTypeOf<InvalidToken | WeakPassword | Busy | StoreError>()
    expectTypeOf<ErrorOf<"deleteAccount">>().toEqualTypeOf<
      InvalidSession | InvalidCredentials | TooManyAttempts | Busy | StoreError
    >()
    expectTypeOf<ErrorOf<"listSessions">>().toEqualTypeOf<InvalidSession | StoreError>()
    expectTypeOf<ErrorOf<"revokeSession">>().toEqualTypeOf<InvalidSession | SessionNotFound | StoreError>()
    expectTypeOf<ErrorOf<"revokeOtherSessions">>().toEqualTypeOf<InvalidSession | StoreError>()
  })

  it("pins each operation's success and requires nothing", () => {
    expectTypeOf<SuccessOf<"register">>().toEqualTypeOf<void>()
    expectTypeOf<SuccessOf<"verifyEmail">>().toEqualTypeOf<void>()
    expectTypeOf<SuccessOf<"login">>().toEqualTypeOf<Session>()
    expectTypeOf<SuccessOf<"verifySession">>().toEqualTypeOf<boolean>()
    expectTypeOf<SuccessOf<"validateSession">>().toEqualTypeOf<ValidatedSession>()
    expectTypeOf<SuccessOf<"getCurrentUser">>().toEqualTypeOf<User>()
    expectTypeOf<SuccessOf<"changePassword">>().toEqualTypeOf<Session>()
    expectTypeOf<SuccessOf<"deleteAccount">>().toEqualTypeOf<void>()
    expectTypeOf<SuccessOf<"listSessions">>().toEqualTypeOf<ReadonlyArray<SessionSummary>>()
    expectTypeOf<SuccessOf<"revokeSession">>().toEqualTypeOf<void>()
    expectTypeOf<SuccessOf<"revokeOtherSessions">>().toEqualTypeOf<number>()
    expectTypeOf<keyof SessionSummary>().toEqualTypeOf<"id" | "createdAt" | "lastUsedAt" | "expiresAt" | "current">()
    expectTypeOf<ContextOf<keyof Op>>().toEqualTypeOf<never>()
    expectTypeOf<Session["token"]>().toEqualTypeOf<Redacted.Redacted<string>>()
  })

  it("accepts secrets as strings or Redacted", () => {
    expectTypeOf<Parameters<Op["verifyEmail"]>[0]>().toEqualTypeOf<string | Redacted.Redacted<string>>()
    expectTypeOf<Parameters<Op["login"]>[0]["password"]>().toEqualTypeOf<string | Redacted.Redacted<string>>()
    expectTypeOf<User>().not.toHaveProperty("passwordHash")
  })
})

// Outbox mode: messages are queued in the store transaction, so no operation can fail with EmailDeliveryError.
type OutboxOp = UserHarborOutbox["Type"]
type OutboxErrorOf<K extends keyof OutboxOp> = Effect.Effect.Error<ReturnType<OutboxOp[K]>>

describe("UserHarborOutbox error unions", () => {
  it("drops EmailDeliveryError from register, resendVerification and sendPasswordReset", () => {
    expectTypeOf<OutboxErrorOf<"register">>().toEqualTypeOf<
      InvalidUsername | InvalidEmail | WeakPassword | UsernameTaken | TooManyAttempts | Busy | StoreError
    >()
    expectTypeOf<OutboxErrorOf<"resendVerification">>().toEqualTypeOf<InvalidEmail | StoreError>()
    expectTypeOf<OutboxErrorOf<"sendPasswordReset">>().toEqualTypeOf<InvalidEmail | StoreError>()
  })

  it("keeps every other operation as it is in inline mode", () => {
    expectTypeOf<OutboxErrorOf<"login">>().toEqualTypeOf<ErrorOf<"login">>()
    expectTypeOf<OutboxErrorOf<"changePassword">>().toEqualTypeOf<ErrorOf<"changePassword">>()
    expectTypeOf<OutboxErrorOf<"deleteAccount">>().toEqualTypeOf<ErrorOf<"deleteAccount">>()
    expectTypeOf<Parameters<OutboxOp["login"]>>().toEqualTypeOf<Parameters<Op["login"]>>()
    expectTypeOf<Effect.Effect.Success<ReturnType<OutboxOp["changePassword"]>>>().toEqualTypeOf<Session>()
    expectTypeOf<Effect.Effect.Context<ReturnType<OutboxOp[keyof OutboxOp]>>>().toEqualTypeOf<never>()
  })

  it("an outbox service is usable where the general one is expected", () => {
    expectTypeOf<OutboxOp>().toMatchTypeOf<Op>()
  })
})

describe("second-factor operations", () => {
  it("pin their error unions", () => {
    expectTypeOf<ErrorOf<"completeLogin">>().toEqualTypeOf<
      InvalidChallenge | InvalidCode | AccountLocked | TooManyAttempts | StoreError
    >()
    expectTypeOf<ErrorOf<"beginTotpEnrollment">>().toEqualTypeOf<
      InvalidSession | InvalidCredentials | TooManyAttempts | TotpAlreadyEnabled | Busy | StoreError
    >()
    expectTypeOf<ErrorOf<"confirmTotpEnrollment">>().toEqualTypeOf<
      InvalidSession | TotpNotEnabled | InvalidCode | TooManyAttempts | StoreError
    >()
    expectTypeOf<ErrorOf<"disableTotp">>().toEqualTypeOf<
      InvalidSession | TotpNotEnabled | InvalidCredentials | InvalidCode | TooManyAttempts | Busy | StoreError
    >()
    expectTypeOf<ErrorOf<"regenerateRecoveryCodes">>().toEqualTypeOf<
      InvalidSession | TotpNotEnabled | InvalidCredentials | TooManyAttempts | Busy | StoreError
    >()
    expectTypeOf<ErrorOf<"listFactors">>().toEqualTypeOf<InvalidSession | StoreError>()
  })

  it("pin their successes, every secret Redacted", () => {
    expectTypeOf<SuccessOf<"completeLogin">>().toEqualTypeOf<Session>()
    expectTypeOf<SuccessOf<"beginTotpEnrollment">>().toEqualTypeOf<TotpEnrollment>()
    expectTypeOf<TotpEnrollment["secret"]>().toEqualTypeOf<Redacted.Redacted<string>>()
    expectTypeOf<TotpEnrollment["uri"]>().toEqualTypeOf<Redacted.Redacted<string>>()
    expectTypeOf<SuccessOf<"confirmTotpEnrollment">>().toEqualTypeOf<RecoveryCodes>()
    expectTypeOf<RecoveryCodes[number]>().toEqualTypeOf<Redacted.Redacted<string>>()
    expectTypeOf<SuccessOf<"listFactors">>().toEqualTypeOf<ReadonlyArray<FactorSummary>>()
  })
})
