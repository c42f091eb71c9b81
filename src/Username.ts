/**
 * Usernames: NFC-normalised, 3 to 64 Unicode letters or digits (combining marks may follow a letter or digit, so
 * scripts such as Devanagari work), displayed as typed and unique regardless of case.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { InvalidUsername } from "./Errors.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ValidUsername {
  /** As typed, NFC-normalised: what the library shows. */
  readonly display: string
  /** The canonical form that uniqueness and look-ups use. */
  readonly key: string
}

const minLength = 3
const maxLength = 64
const shape = /^[\p{L}\p{N}][\p{L}\p{M}\p{N}]*$/u

/**
 * The canonical form: NFKC, so look-alike compatibility characters (`ﬁ`, full-width letters) collide with their
 * plain forms, then a full case fold (upper then lower, so `ß` matches `SS`).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert"
 * import { Username } from "userharbor"
 *
 * // "Straße" and "STRASSE" are one username: registering the second is `UsernameTaken`
 * strictEqual(Username.canonical("Straße"), Username.canonical("STRASSE"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const canonical = (username: string): string =>
  username.normalize("NFKC").toUpperCase().toLowerCase().normalize("NFKC")

/**
 * Checks a username (3-64 Unicode letters or digits) and returns it with its canonical form.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert"
 * import { Either } from "effect"
 * import { Username } from "userharbor"
 *
 * const valid = Either.getOrThrow(Username.validate("Jane"))
 * strictEqual(valid.display, "Jane")
 * strictEqual(valid.key, "jane")
 *
 * const refused = Username.validate("jo")
 * strictEqual(Either.isLeft(refused) && refused.left.reason, "too-short")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const validate = (input: string): Either.Either<ValidUsername, InvalidUsername> => {
  // Length is checked on the raw input first, so a huge string costs nothing to refuse.
  if (input.length > maxLength * 4) return Either.left(new InvalidUsername({ reason: "too-long" }))
  const display = input.normalize("NFC")
  const length = [...display].length
  if (length < minLength) return Either.left(new InvalidUsername({ reason: "too-short" }))
  if (length > maxLength) return Either.left(new InvalidUsername({ reason: "too-long" }))
  if (!shape.test(display)) return Either.left(new InvalidUsername({ reason: "invalid-characters" }))
  return Either.right({ display, key: canonical(display) })
}
