import type { Effect, Redacted } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type {
  Busy,
  EmailDeliveryError,
  EmailNotVerified,
  InvalidCredentials,
  InvalidEmail,
  InvalidSession,
  InvalidToken,
  InvalidUsername,
  SessionNotFound,
  StoreError,
  TooManyAttempts,
  UsernameTaken,
  WeakPassword
} from "../src/Errors.js"
import type { Session, SessionSummary, User, ValidatedSession } from "../src/User.js"
import type { UserHarbor } from "../src/UserHarbor.js"

type Op = UserHarbor["Type"]
type ErrorOf<K extends keyof Op> = Effect.Effect.Error<ReturnType<Op[K]>>
type SuccessOf<K extends keyof Op> = Effect.Effect.Success<ReturnType<Op[K]>>
type ContextOf<K extends keyof Op> = Effect.Effect.Context<ReturnType<Op[K]>>

describe("UserHarbor error unions", () => {
  it("pins each operation's error channel", () => {
    expectTypeOf<ErrorOf<"register">>().toEqualTypeOf<
      InvalidUsername | InvalidEmail | WeakPassword | UsernameTaken | EmailDeliveryError | Busy | StoreError
    >()
    expectTypeOf<ErrorOf<"verifyEmail">>().toEqualTypeOf<InvalidToken | StoreError>()
    expectTypeOf<ErrorOf<"resendVerification">>().toEqualTypeOf<EmailDeliveryError | StoreError>()
    expectTypeOf<ErrorOf<"login">>().toEqualTypeOf<
      InvalidCredentials | EmailNotVerified | TooManyAttempts | Busy | StoreError
    >()
    expectTypeOf<ErrorOf<"verifySession">>().toEqualTypeOf<StoreError>()
    expectTypeOf<ErrorOf<"validateSession">>().toEqualTypeOf<InvalidSession | StoreError>()
    expectTypeOf<ErrorOf<"getCurrentUser">>().toEqualTypeOf<InvalidSession | StoreError>()
    expectTypeOf<ErrorOf<"logout">>().toEqualTypeOf<InvalidSession | StoreError>()
    expectTypeOf<ErrorOf<"logoutAll">>().toEqualTypeOf<InvalidSession | StoreError>()
    expectTypeOf<ErrorOf<"changePassword">>().toEqualTypeOf<
      InvalidSession | InvalidCredentials | WeakPassword | Busy | StoreError
    >()
    expectTypeOf<ErrorOf<"sendPasswordReset">>().toEqualTypeOf<EmailDeliveryError | StoreError>()
    expectTypeOf<ErrorOf<"resetPassword">>().toEqualTypeOf<InvalidToken | WeakPassword | Busy | StoreError>()
    expectTypeOf<ErrorOf<"deleteAccount">>().toEqualTypeOf<
      InvalidSession | InvalidCredentials | Busy | StoreError
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
