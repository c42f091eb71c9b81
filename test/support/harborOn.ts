/**
 * `UserHarbor` wired on a real store for the concurrency tests, and the contested calls they race: the recording
 * sender, real random bytes (so several processes never mint the same ids), argon2id with test parameters and the
 * test kit's secret key (so every process hashes tokens the same way).
 */
import { Effect, Layer, Schema } from "effect"
import * as PasswordHasher from "../../src/PasswordHasher.js"
import * as RecordingEmailSender from "../../src/RecordingEmailSender.js"
import * as SecureRandom from "../../src/SecureRandom.js"
import * as UserHarbor from "../../src/UserHarbor.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import { testSecretKey } from "../../src/UserHarborTest.js"
import type { UserStore } from "../../src/UserStore.js"

export const harborOn = <A, E, R>(store: Layer.Layer<A | UserStore, E, R>) =>
  UserHarbor.layer.pipe(Layer.provideMerge(Layer.mergeAll(
    store,
    RecordingEmailSender.layer,
    SecureRandom.layer,
    PasswordHasher.layerInsecureForTesting,
    // The races probe one account with 20 passwords afterwards; login throttling (tested on its own) would lock it.
    UserHarborConfig.layer({ secretKey: testSecretKey, throttle: { enabled: false } }).pipe(Layer.orDie)
  )))

export const Command = Schema.Union(
  Schema.Struct({ op: Schema.Literal("verifyEmail"), token: Schema.String }),
  Schema.Struct({ op: Schema.Literal("resetPassword"), token: Schema.String, password: Schema.String }),
  Schema.Struct({ op: Schema.Literal("confirmEmailChange"), token: Schema.String }),
  Schema.Struct({
    op: Schema.Literal("register"),
    username: Schema.String,
    email: Schema.String,
    password: Schema.String
  })
)
export type Command = typeof Command.Type

/** Runs one command and reports `"ok"` or the error's tag. */
export const execute = (command: Command): Effect.Effect<string, never, UserHarbor.UserHarbor> =>
  Effect.flatMap(UserHarbor.UserHarbor, (harbor) => {
    const call: Effect.Effect<unknown, { readonly _tag: string }> = command.op === "verifyEmail"
      ? harbor.verifyEmail(command.token)
      : command.op === "resetPassword"
      ? harbor.resetPassword({ token: command.token, newPassword: command.password })
      : command.op === "confirmEmailChange"
      ? harbor.confirmEmailChange(command.token)
      : harbor.register(command)
    return Effect.match(call, { onFailure: (error) => error._tag, onSuccess: () => "ok" })
  })
