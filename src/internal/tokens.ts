import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { createHmac, createSecretKey, type KeyObject } from "node:crypto"
import type { SecureRandomService } from "../SecureRandom.js"
import { TokenHash } from "../UserStore.js"
import type { SecretInput } from "./secrets.js"

/** 256 bits, the size of every token. */
export const tokenBytes = 32

// 32 bytes in unpadded base64url are exactly 43 characters from this alphabet
const tokenShape = /^[A-Za-z0-9_-]{43}$/

export interface IssuedToken {
  readonly token: Redacted.Redacted<string>
  readonly tokenHash: TokenHash
}

export interface Tokens {
  readonly issue: Effect.Effect<IssuedToken>
  /** The HMAC of a well-formed token, or `undefined` for anything that cannot be one (never stored, never hashed). */
  readonly hashOf: (token: SecretInput) => TokenHash | undefined
  readonly newId: Effect.Effect<string>
  /** The HMAC of any string under the same key, for keys that must not reveal what they name (login names). */
  readonly digest: (value: string) => string
}

const idShape = /^[0-9a-f]{32}$/

/** Whether a caller's string has the shape of the ids `newId` makes (user and session ids). */
export const isId = (value: string): boolean => idShape.test(value)

/** The key object is built once per layer, not once per request. */
export const make = (secretKey: Redacted.Redacted<string>, random: SecureRandomService): Tokens => {
  const key: KeyObject = createSecretKey(Buffer.from(Redacted.value(secretKey), "utf8"))
  const hash = (value: string) => createHmac("sha256", key).update(value, "utf8").digest("hex")
  // Our own HMAC: the brand's (string) check would only cost time on every session check.
  const tokenHash = (token: string) => TokenHash.make(hash(token), true)
  return {
    issue: Effect.map(random.nextBytes(tokenBytes), (bytes) => {
      const token = Buffer.from(bytes).toString("base64url")
      return { token: Redacted.make(token), tokenHash: tokenHash(token) }
    }),
    hashOf: (token) => {
      // A plain string is hashed as it is: wrapping it in `Redacted` first would cost an allocation per request.
      const raw = typeof token === "string" ? token : Redacted.value(token)
      return tokenShape.test(raw) ? tokenHash(raw) : undefined
    },
    newId: Effect.map(random.nextBytes(16), (bytes) => Buffer.from(bytes).toString("hex")),
    digest: hash
  }
}
