/**
 * The password policy, after NIST SP 800-63B and OWASP ASVS: length matters, composition rules do not (they are
 * available as options), and common, repetitive, sequential and context-specific passwords are refused (the
 * username, the address's local part and the app's own names, `appNames`). Those checks compare NFKC, case-folded
 * text with invisible code points removed, so `ＰＡＳＳＷＯＲＤ` and `pass\u200Bword` are `password`. Passwords are
 * hashed NFC-normalised, so the same password typed on two keyboards hashes the same.
 *
 * @since 0.1.0
 */
import * as Arr from "effect/Array"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { type PasswordProblem, WeakPassword } from "./Errors.js"
import { commonPasswords } from "./internal/commonPasswords.js"
import { foldCase, visible } from "./internal/fold.js"

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
  /**
   * The service's own names (the app, the company, the domain's name): a password holding one (case- and
   * width-insensitively) is refused as `contains-app-name`, as NIST SP 800-63B asks. Names shorter than 3
   * characters are ignored. Default none.
   */
  readonly appNames: ReadonlyArray<string>
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
  requireSymbol: false,
  appNames: []
}

/**
 * For a password that is the only authentication factor: NIST SP 800-63B-4 (3.1.1.2) asks for at least 15
 * characters then, and 8 only when the password is part of multi-factor authentication.
 *
 * @since 0.1.0
 * @category constants
 */
export const nistSingleFactor: PasswordPolicy = { ...defaultPolicy, minLength: 15 }

/**
 * The named policies an app can start from (`UserHarborConfig`'s `passwordPreset`).
 *
 * @since 0.1.0
 * @category constants
 */
export const presets = {
  default: defaultPolicy,
  "nist-single-factor": nistSingleFactor
} as const satisfies Record<string, PasswordPolicy>

/**
 * @since 0.1.0
 * @category models
 */
export type Preset = keyof typeof presets

/**
 * The fewest different visible characters a password may have.
 *
 * @since 0.1.0
 * @category constants
 */
export const minDistinct = 5

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

// The shortest context word that counts: shorter ones (`al`, `jo`) would refuse half of all passwords.
const minWordLength = 3

const repeated = /^(.+?)\1+$/su

// Every step between neighbouring code points is +1, or every step is -1.
const isSequential = (chars: ReadonlyArray<string>): boolean => {
  const points = chars.map((c) => c.codePointAt(0) ?? 0)
  const steps = points.slice(1).map((point, i) => point - points[i]!)
  return steps.length > 0 && (steps.every((step) => step === 1) || steps.every((step) => step === -1))
}

const problems = (policy: PasswordPolicy, password: string, context: PasswordContext): Array<PasswordProblem> => {
  const length = [...password].length
  // What a person sees and would type from memory: compatibility forms, case and invisible code points aside.
  const shown = visible(foldCase(password))
  const chars = [...shown]
  const username = visible(foldCase(context.username))
  const email = visible(foldCase(context.email))
  const localPart = email.slice(0, Math.max(0, email.lastIndexOf("@")))
  const contains = (word: string) => [...word].length >= minWordLength && shown.includes(word)
  const found: Array<PasswordProblem> = []
  if (length < Math.max(8, policy.minLength)) found.push("too-short")
  if (length > Math.min(256, policy.maxLength)) found.push("too-long")
  if (new Set(chars).size < minDistinct) found.push("too-few-distinct")
  if (repeated.test(shown)) found.push("repetitive")
  if (isSequential(chars)) found.push("sequential")
  if (policy.rejectCommon && commonPasswords.has(shown)) found.push("common")
  if (shown === username) found.push("same-as-username")
  else if (contains(username)) found.push("contains-username")
  if (shown === email) found.push("same-as-email")
  else if (contains(localPart)) found.push("contains-email")
  if (policy.appNames.some((name) => contains(visible(foldCase(name))))) found.push("contains-app-name")
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
