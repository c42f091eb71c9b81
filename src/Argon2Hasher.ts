/**
 * The argon2id `PasswordHasher`, through the `argon2` package, whose work runs on libuv's thread pool, so hashing
 * never blocks the event loop. Hashes are PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so the parameters
 * travel with each hash and can be raised later. Imported scrypt hashes in PHC form
 * (`$scrypt$ln=…,r=…,p=…$salt$hash`, base64) verify as well, and are upgraded to argon2id on the next login.
 *
 * `argon2` is a native addon, loaded when a hasher is built (`make`, or a layer's construction), not when
 * `userharbor` is imported: an app that provides another `PasswordHasher` never loads it.
 *
 * @since 0.3.0
 */
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as EffectTypes from "./EffectTypes.js"
import * as Parameters from "./internal/argon2Parameters.js"
import { isScryptHash, verifyScrypt } from "./internal/scrypt.js"
import { bounded, type Limits, PasswordHasher, type PasswordHasherService } from "./PasswordHasher.js"

/**
 * argon2id parameters. `memoryCost` is in KiB.
 *
 * @since 0.3.0
 * @category models
 */
export interface Argon2Options {
  readonly memoryCost: number
  readonly timeCost: number
  readonly parallelism: number
}

/**
 * 64 MiB, 3 passes, 4 lanes: above every OWASP minimum, about 0.1-0.2 s per hash on a current core.
 *
 * @since 0.3.0
 * @category constants
 */
export const defaultOptions: Argon2Options = Parameters.defaultOptions

/**
 * `true` when the parameters meet at least one of OWASP's argon2id minimums.
 *
 * @since 0.3.0
 * @category predicates
 */
export const meetsOwaspMinimum: (options: Argon2Options) => boolean = Parameters.meetsOwaspMinimum

type Argon2 = typeof import("argon2")

// A defect, not a typed error: `argon2` is a dependency of this package, so failing to load it is a broken install
// (its native build missing for this platform or Node version), which no caller can handle, as the static import it
// replaces would have failed at startup. It also keeps the layers' error types as they were.
const loadArgon2: Effect.Effect<Argon2> = Effect.promise(() =>
  import("argon2").catch((cause: unknown) => {
    throw new Error(
      "userharbor: the argon2 package could not be loaded (is its native module built for this platform and " +
        "Node version? try `npm rebuild argon2`), or provide another PasswordHasher",
      { cause }
    )
  })
)

// `argon2` 0.4x writes the parameters as `m=…,p=…,t=…`, but the PHC reference order is `m=…,t=…,p=…`, the only
// order libargon2's decoder (and so argon2-cffi, PHP and libsodium) accepts: rewritten, a stored hash stays portable.
// `argon2.verify` parses the parameters by name, so it reads either order.
const phcParams = /^(\$argon2id\$v=\d+\$)m=(\d+),p=(\d+),t=(\d+)\$/
const canonicalOrder = (hash: string): string =>
  hash.replace(phcParams, (_, prefix: string, m: string, p: string, t: string) => `${prefix}m=${m},t=${t},p=${p}$`)

const makeArgon2 = (argon2: Argon2, options: Argon2Options): PasswordHasherService => {
  const hashOptions: import("argon2").HashOptions = { type: argon2.argon2id, ...options }
  return PasswordHasher.of({
    hash: (password) =>
      Effect.map(Effect.promise(() => argon2.hash(Redacted.value(password), hashOptions)), canonicalOrder),
    verify: (password, hash) =>
      Effect.promise(() =>
        // Imported scrypt hashes verify too; `needsRehash` is true for them, so the next login upgrades them.
        isScryptHash(hash)
          ? verifyScrypt(Redacted.value(password), hash)
          // argon2 rejects a malformed PHC string; for a login that is simply "does not match"
          : argon2.verify(hash, Redacted.value(password)).catch(() => false)
      ),
    needsRehash: (hash) => {
      try {
        return !hash.startsWith("$argon2id$") || argon2.needsRehash(hash, options)
      } catch {
        return true
      }
    }
  })
}

/**
 * argon2id with the given parameters, refused with a `ConfigError` when they are below OWASP's minimums. Loads
 * the `argon2` addon (a defect if it cannot be loaded).
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = (
  options: Argon2Options = defaultOptions
): Effect.Effect<PasswordHasherService, EffectTypes.ConfigError> =>
  meetsOwaspMinimum(options)
    ? Effect.map(loadArgon2, (argon2) => makeArgon2(argon2, options))
    : Effect.fail(
      ConfigError.InvalidData(
        ["argon2"],
        `argon2id parameters m=${options.memoryCost} t=${options.timeCost} p=${options.parallelism} are below the OWASP minimums`
      )
    )

/**
 * argon2id with the given parameters (refused below OWASP's minimums), bounded by `PasswordHasher.bounded` with
 * `limits` (default `PasswordHasher.defaultLimits()`).
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options: Argon2Options = defaultOptions,
  limits: Partial<Limits> = {}
): Layer.Layer<PasswordHasher, EffectTypes.ConfigError> =>
  Layer.effect(PasswordHasher, Effect.flatMap(make(options), (hasher) => bounded(hasher, limits)))

/**
 * argon2id with tiny parameters (256 KiB, 1 pass), for tests only: it makes each hash take well under a
 * millisecond and offers no protection for real passwords.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerInsecureForTesting: Layer.Layer<PasswordHasher> = Layer.effect(
  PasswordHasher,
  Effect.map(loadArgon2, (argon2) => makeArgon2(argon2, { memoryCost: 256, timeCost: 1, parallelism: 1 }))
)
