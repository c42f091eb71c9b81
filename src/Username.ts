/**
 * Usernames: NFC-normalised, 3 to 64 Unicode letters or digits (combining marks may follow a letter or digit, so
 * scripts such as Devanagari work), displayed as typed and unique regardless of case.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { InvalidUsername } from "./Errors.js"
import { foldCase } from "./internal/fold.js"

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

/**
 * The longest canonical key, in code points: what every store's key column holds (`VARCHAR(768)`, the most that
 * MariaDB can index at 4 bytes a character). NFKC and case folding can lengthen a name (`ﷺ` becomes 18 code
 * points), so a name of at most 64 code points whose key is longer is refused as `too-long`, on every store alike.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxKeyLength = 768
const shape = /^[\p{L}\p{N}][\p{L}\p{M}\p{N}]*$/u

/**
 * The canonical form: NFKC, so look-alike compatibility characters (`ﬁ`, full-width letters) collide with their
 * plain forms, then a full case fold (upper then lower, so `ß` matches `SS`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const canonical = (username: string): string => foldCase(username)

/**
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
  const key = canonical(display)
  if ([...key].length > maxKeyLength) return Either.left(new InvalidUsername({ reason: "too-long" }))
  return Either.right({ display, key })
}
