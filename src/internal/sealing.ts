/**
 * Authenticated encryption of what the library stores but must not store in the clear (outbox payloads, TOTP
 * secrets): AES-256-GCM under a key derived from the secret key with HKDF-SHA256, with a label (`info`) of its own
 * per use, so no two uses share a key and none equals the token-hashing key. Each payload has a random 96-bit IV
 * and is bound to its row by associated data (its id), so a payload copied to another row does not open.
 */
import * as Redacted from "effect/Redacted"
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto"

/** The payload's format version, so a later release can change the scheme and still read old rows. */
const version = "v1"
const ivBytes = 12
const tagBytes = 16

export interface Sealer {
  /** Encrypts `plain`, bound to `associated`: `v1.<base64url of IV, ciphertext and tag>`. */
  readonly seal: (associated: string, plain: string) => string
  /** Decrypts a payload; `undefined` when it was not sealed for `associated` under this key. */
  readonly open: (associated: string, payload: string) => string | undefined
}

export const make = (secretKey: Redacted.Redacted<string>, info: string): Sealer => {
  const key = Buffer.from(
    hkdfSync("sha256", Buffer.from(Redacted.value(secretKey), "utf8"), Buffer.alloc(0), info, 32)
  )
  return {
    seal: (associated, plain) => {
      const iv = randomBytes(ivBytes)
      const cipher = createCipheriv("aes-256-gcm", key, iv)
      cipher.setAAD(Buffer.from(associated, "utf8"))
      const sealed = Buffer.concat([iv, cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()])
      return `${version}.${sealed.toString("base64url")}`
    },
    open: (associated, payload) => {
      const [prefix, body] = payload.split(".")
      if (prefix !== version || body === undefined) return undefined
      const sealed = Buffer.from(body, "base64url")
      if (sealed.length < ivBytes + tagBytes) return undefined
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, ivBytes))
        decipher.setAAD(Buffer.from(associated, "utf8"))
        decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes))
        return Buffer.concat([decipher.update(sealed.subarray(ivBytes, sealed.length - tagBytes)), decipher.final()])
          .toString("utf8")
      } catch {
        // A failed authentication: tampered, another row's, or another key's.
        return undefined
      }
    }
  }
}
