import type { Effect, Redacted } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type {
  Busy,
  InvalidChallenge,
  InvalidCode,
  InvalidCredentials,
  InvalidSession,
  StoreError,
  TooManyAttempts,
  TotpAlreadyEnabled,
  TotpNotEnabled
} from "../src/Errors.js"
import type { Session } from "../src/User.js"
import type { FactorSummary, RecoveryCodes, TotpEnrollment, UserHarbor } from "../src/UserHarbor.js"

type Op = UserHarbor["Type"]
type ErrorOf<K extends keyof Op> = Effect.Effect.Error<ReturnType<Op[K]>>
type SuccessOf<K extends keyof Op> = Effect.Effect.Success<ReturnType<Op[K]>>

describe("second-factor operations", () => {
  it("pin their error unions", () => {
    expectTypeOf<ErrorOf<"completeLogin">>().toEqualTypeOf<
      InvalidChallenge | InvalidCode | TooManyAttempts | StoreError
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
