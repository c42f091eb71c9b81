/**
 * Usernames: NFC-normalised, 3 to 64 Unicode letters or digits (combining marks may follow a letter or digit, so
 * scripts such as Devanagari work), displayed as typed and unique regardless of case and of look-alikes.
 *
 * After PRECIS (RFC 8264/8265, the IdentifierClass of `UsernameCaseMapped`): no default-ignorable code points (zero
 * width joiners, variation selectors, Hangul fillers such as `ㅤ`), no unassigned code points and no conjoining
 * Hangul jamo left uncomposed. After UTS #39: a name meets the Highly Restrictive level (one script, or Latin with
 * Han and kana, Bopomofo or Hangul), so Cyrillic `аlice` is refused while `алиса`, `Δημήτρης` and `山田たろう` are
 * not; and its key is the confusable skeleton of its case-folded form, so a look-alike of an existing name (`a1ice`,
 * the whole-Cyrillic `аіс` for `aic`) is `UsernameTaken`.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { InvalidUsername } from "./Errors.js"
import { skeleton } from "./internal/confusables.js"
import { foldCase } from "./internal/fold.js"
import { isHighlyRestrictive } from "./internal/scripts.js"
import { UsernameKey } from "./UserStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ValidUsername {
  /** As typed, NFC-normalised: what the library shows. */
  readonly display: string
  /** The canonical form that uniqueness and look-ups use. */
  readonly key: UsernameKey
}

const minLength = 3
const maxLength = 64

/**
 * The longest canonical key, in code points: what every store's key column holds (`VARCHAR(768)`, the most that
 * MariaDB can index at 4 bytes a character). NFKC and case folding can lengthen a name (`ﷺ` becomes 18 code
 * points), so a name of at most 64 code points whose key is longer is refused as `too-long`, on every store alike.
 *
 * @since 0.2.0
 * @category constants
 */
export const maxKeyLength = 768
const shape = /^[\p{L}\p{N}][\p{L}\p{M}\p{N}]*$/u

/**
 * The canonical form, the key that uniqueness and look-ups use: NFKC and a full case fold (so `ﬁ`, full-width
 * letters and `ß`/`SS` collide with their plain forms), then the UTS #39 confusable skeleton of that, folded again
 * (so `0` and `o`, `1` and `l`, Cyrillic `а` and Latin `a` collide). A key is for comparing, not for showing.
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
export const canonical = (username: string): UsernameKey =>
  // A key is whatever this function returns: nothing to check.
  UsernameKey.make(foldCase(skeleton(foldCase(username))), true)

// PRECIS: code points that show nothing or are not characters yet, and conjoining jamo (RFC 8264 9.9,
// OldHangulJamo: Hangul_Syllable_Type L, V and T) that NFC could not compose into a syllable.
const disallowed = /[\p{Default_Ignorable_Code_Point}\p{Cn}\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF]/u

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
  if (!shape.test(display) || disallowed.test(display)) {
    return Either.left(new InvalidUsername({ reason: "invalid-characters" }))
  }
  if (!isHighlyRestrictive(display)) return Either.left(new InvalidUsername({ reason: "mixed-scripts" }))
  const key = canonical(display)
  if ([...key].length > maxKeyLength) return Either.left(new InvalidUsername({ reason: "too-long" }))
  return Either.right({ display, key })
}
