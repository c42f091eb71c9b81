// A consumer of the packed package, compiled by .ci/consumer-check.sh against the installed tarball with
// `moduleResolution` NodeNext and Bundler (strict, library checks on), then run on Node. It names every entry
// point in `exports` (the script checks that), asserts that no export it touches resolved to `any` (which is what
// a missing type package silently gives under `skipLibCheck`), and runs register -> verifyEmail -> login ->
// validateSession on a SQLite file with the recording mailer and the production hasher.
import { Effect, Layer, Option, Redacted } from "effect"
import {
  Argon2Hasher,
  CounterStore,
  Errors,
  PurgeSchedule,
  SecureRandom,
  UserHarbor,
  UserHarborConfig,
  UserStore
} from "userharbor"
import { HttpErrors, HttpSession } from "userharbor/http"
import { MysqlUserStore } from "userharbor/mysql"
import { PgUserStore } from "userharbor/pg"
import { RedisClient, RedisCounterStore, RedisSessionInvalidation } from "userharbor/redis"
import { SmtpEmailSender } from "userharbor/smtp"
import { SqlMigrations, SqlUserStore } from "userharbor/sql"
import { SqliteUserStore } from "userharbor/sqlite"
import { RecordingEmailSender, StoreConformance, UserHarborTest } from "userharbor/testing"

type IsAny<T> = 0 extends 1 & T ? true : false
// `any` is assignable to every parameter type but `never`
const typed = <T>(value: T & (IsAny<T> extends true ? never : unknown)): T => value

// the entry points this run does not exercise still have to resolve, with real types
export const entryPoints = [
  typed(PgUserStore.layer),
  typed(PgUserStore.layerConfig),
  typed(MysqlUserStore.layer),
  typed(SmtpEmailSender.layer),
  typed(RedisClient.layerConfig),
  typed(RedisSessionInvalidation.layer),
  typed(SqlUserStore.make),
  typed(SqlMigrations.run),
  typed(PurgeSchedule.layer),
  typed(StoreConformance.cases),
  typed(UserHarborTest.layer),
  typed(HttpErrors.StoreErrorBody),
  typed(HttpSession.tokenFromHeader)
] as const

// the session middleware on the app's UserHarbor, as an HttpApi server provides it
export const authentication: Layer.Layer<HttpSession.Authentication, never, UserHarbor.UserHarbor> = HttpSession
  .layer({ secure: true })

// layers a strict consumer writes against the optional drivers' types (not built here: no server)
export const postgres: Layer.Layer<UserStore.UserStore, Errors.StoreError> = PgUserStore.layer({
  url: Redacted.make("postgres://app@127.0.0.1:5432/app")
})
export const mysql: Layer.Layer<UserStore.UserStore, Errors.StoreError> = MysqlUserStore.layer({
  url: Redacted.make("mysql://app@127.0.0.1:3306/app")
})

export const redisCounters: Layer.Layer<CounterStore.CounterStore, Errors.StoreError> = RedisCounterStore.layer()
  .pipe(Layer.provide(RedisClient.layer({ url: Redacted.make("redis://:secret@127.0.0.1:6379/0") })))

/** register -> verifyEmail -> login -> validateSession on a SQLite file; resolves to the validated username. */
export const main = (filename: string): Promise<string> => {
  const Live = UserHarbor.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      SqliteUserStore.layer({ filename }),
      RecordingEmailSender.layer,
      Argon2Hasher.layer(),
      SecureRandom.layer,
      UserHarborConfig.layer({ secretKey: Redacted.make("consumer-check-secret-key-0123456789abcdef") })
    ))
  )
  const program = Effect.gen(function*() {
    const harbor = yield* UserHarbor.UserHarbor
    const mail = yield* RecordingEmailSender.RecordingEmailSender
    yield* harbor.register({ username: "jane", email: "Jane@Example.com", password: "StrongPassword123!" })
    const token = yield* mail.lastToken("VerificationEmail", "Jane@Example.com")
    if (Option.isNone(token)) return yield* Effect.dieMessage("no verification email was recorded")
    yield* harbor.verifyEmail(token.value)
    const session = yield* harbor.login({ username: "jane", password: "StrongPassword123!" })
    const { user } = yield* harbor.validateSession(session.token)
    const printed = `${String(session.token)} ${JSON.stringify(session)}`
    if (printed.includes(Redacted.value(session.token))) {
      return yield* Effect.dieMessage("the session token printed in clear")
    }
    return user.username
  })
  return Effect.runPromise(program.pipe(Effect.provide(Live)))
}
