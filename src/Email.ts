/**
 * Email addresses: trimmed, at most 254 characters with a local part of at most 64 (RFC 5321), a dot-atom local
 * part and a domain of at least two labels. Internationalised addresses (Unicode letters) are accepted; spaces,
 * control characters (anywhere, even where trimming would remove them) and quoted local parts are not. Unique
 * regardless of case.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { InvalidEmail } from "./Errors.js"
import { EmailKey } from "./UserStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ValidEmail {
  /** Trimmed and NFC-normalised: where messages go. */
  readonly address: string
  /** The canonical form that uniqueness and look-ups use. */
  readonly key: EmailKey
}

const controlCharacter = /\p{Cc}/u
const atom = String.raw`[\p{L}\p{N}!#$%&'*+/=?^_\x60{|}~-]+`
const localPart = new RegExp(String.raw`^${atom}(?:\.${atom})*$`, "u")
const label = String.raw`[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?`
const domain = new RegExp(String.raw`^(?:${label}\.)+(?:\p{L}[\p{L}\p{M}]{1,62}|xn--[a-z0-9-]{1,59})$`, "iu")

/**
 * The canonical form of an already trimmed address.
 *
 * @since 0.1.0
 * @category constructors
 */
export const canonical = (address: string): EmailKey =>
  // A key is whatever this function returns: nothing to check.
  EmailKey.make(address.normalize("NFC").toLowerCase(), true)

/**
 * @since 0.1.0
 * @category constructors
 */
export const validate = (input: string): Either.Either<ValidEmail, InvalidEmail> => {
  if (input.length > 1024) return Either.left(new InvalidEmail({ reason: "too-long" }))
  // Before trimming, which would silently drop a trailing "\n": a control character in an address is a header
  // injection attempt or a client bug, and either way the caller should hear about it.
  if (controlCharacter.test(input)) return Either.left(new InvalidEmail({ reason: "invalid-format" }))
  const address = input.trim().normalize("NFC")
  if (address.length === 0) return Either.left(new InvalidEmail({ reason: "empty" }))
  if (address.length > 254) return Either.left(new InvalidEmail({ reason: "too-long" }))
  const at = address.lastIndexOf("@")
  if (at <= 0) return Either.left(new InvalidEmail({ reason: "invalid-format" }))
  const local = address.slice(0, at)
  if (local.length > 64) return Either.left(new InvalidEmail({ reason: "local-part-too-long" }))
  if (!localPart.test(local) || !domain.test(address.slice(at + 1))) {
    return Either.left(new InvalidEmail({ reason: "invalid-format" }))
  }
  return Either.right({ address, key: canonical(address) })
}
