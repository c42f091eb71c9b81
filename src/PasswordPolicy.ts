/**
 * The password policy, after NIST SP 800-63B and OWASP ASVS: length matters, composition rules do not (they are
 * available as options), and common passwords are refused. Passwords are NFC-normalised, so the same password
 * typed on two keyboards hashes the same.
 *
 * @since 0.1.0
 */
import * as Arr from "effect/Array"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { type PasswordProblem, WeakPassword } from "./Errors.js"
import { commonPasswords } from "./internal/commonPasswords.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface PasswordPolicy {
  /** Minimum length in code points; never below 8. */
  readonly minLength: number
  /** Maximum length in code points (at most 256; a 1024-byte UTF-8 limit applies too). */
  readonly maxLength: number
  readonly rejectCommon: boolean
  readonly requireLowercase: boolean
  readonly requireUppercase: boolean
  readonly requireDigit: boolean
  readonly requireSymbol: boolean
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultPolicy: PasswordPolicy = {
  minLength: 8,
  maxLength: 256,
  rejectCommon: true,
  requireLowercase: false,
  requireUppercase: false,
  requireDigit: false,
  requireSymbol: false
}

/**
 * The hard limit on a password's UTF-8 size, checked before anything else touches it.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBytes = 1024

/**
 * Normalises a password for hashing and verification. `None`-like `undefined` when it cannot be a valid password
 * (not well-formed UTF-16, or over the byte limit), so callers never hash it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const normalize = (password: Redacted.Redacted<string>): Redacted.Redacted<string> | undefined => {
  const raw = Redacted.value(password)
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so this bounds the work before normalising.
  if (raw.length > maxBytes || !raw.isWellFormed()) return undefined
  const normalized = raw.normalize("NFC")
  return Buffer.byteLength(normalized, "utf8") > maxBytes ? undefined : Redacted.make(normalized)
}

/**
 * What the password is checked against besides itself.
 *
 * @since 0.1.0
 * @category models
 */
export interface PasswordContext {
  readonly username: string
  readonly email: string
}

const problems = (policy: PasswordPolicy, password: string, context: PasswordContext): Array<PasswordProblem> => {
  const length = [...password].length
  const folded = password.toLowerCase()
  const found: Array<PasswordProblem> = []
  if (length < Math.max(8, policy.minLength)) found.push("too-short")
  if (length > Math.min(256, policy.maxLength)) found.push("too-long")
  if (policy.rejectCommon && commonPasswords.has(folded)) found.push("common")
  if (folded === context.username.normalize("NFC").toLowerCase()) found.push("same-as-username")
  if (folded === context.email.normalize("NFC").toLowerCase()) found.push("same-as-email")
  if (policy.requireLowercase && !/\p{Ll}/u.test(password)) found.push("missing-lowercase")
  if (policy.requireUppercase && !/\p{Lu}/u.test(password)) found.push("missing-uppercase")
  if (policy.requireDigit && !/\p{Nd}/u.test(password)) found.push("missing-digit")
  if (policy.requireSymbol && !/[^\p{L}\p{N}]/u.test(password)) found.push("missing-symbol")
  return found
}

/**
 * Checks a password against the policy and returns it normalised for hashing, or every reason it fails.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert"
 * import { Either, Redacted } from "effect"
 * import { PasswordPolicy } from "userharbor"
 *
 * const context = { username: "jane", email: "jane@example.com" }
 * const weak = PasswordPolicy.check(PasswordPolicy.defaultPolicy, Redacted.make("password123"), context)
 * deepStrictEqual(Either.isLeft(weak) ? weak.left.reasons : [], ["common"])
 *
 * const strong = PasswordPolicy.check(PasswordPolicy.defaultPolicy, Redacted.make("correct horse battery"), context)
 * deepStrictEqual(Either.isRight(strong), true)
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (
  policy: PasswordPolicy,
  password: Redacted.Redacted<string>,
  context: PasswordContext
): Either.Either<Redacted.Redacted<string>, WeakPassword> => {
  const normalized = normalize(password)
  if (normalized === undefined) {
    const raw = Redacted.value(password)
    return Either.left(new WeakPassword({ reasons: [raw.isWellFormed() ? "too-long" : "malformed"] }))
  }
  const found = problems(policy, Redacted.value(normalized), context)
  return Arr.isNonEmptyArray(found) ? Either.left(new WeakPassword({ reasons: found })) : Either.right(normalized)
}
