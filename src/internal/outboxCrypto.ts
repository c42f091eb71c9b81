import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto"
import { EmailMessage } from "../EmailSender.js"

/**
 * What an outbox row carries: the message, or a decoy. A decoy is written for a request about an address that has
 * no account, so that request does the same work (the same crypto, the same writes) as one about a real account;
 * the worker deletes decoys without sending anything.
 */
export const Envelope = Schema.Struct({
  decoy: Schema.Boolean,
  message: EmailMessage
})

export type Envelope = typeof Envelope.Type

/** The payload's format version, so a later release can change the scheme and still read old rows. */
const version = "v1"
const ivBytes = 12
const tagBytes = 16

export interface OutboxCrypto {
  /** Encodes and encrypts the envelope, bound to the row id. */
  readonly seal: (id: string, envelope: Envelope) => string
  /** Decrypts and decodes a payload; `undefined` when it was not sealed for this id under this key. */
  readonly open: (id: string, payload: string) => Effect.Effect<Envelope | undefined>
}

const encodeEnvelope = Schema.encodeSync(Envelope)
const decodeEnvelope = Schema.decodeUnknown(Schema.parseJson(Envelope))

/**
 * AES-256-GCM under a key derived from the secret key with HKDF-SHA256 (its own `info`, so it never equals the
 * token-hashing key), a random 96-bit IV per row and the row id as associated data: a payload copied to another
 * row does not open.
 */
export const make = (secretKey: Redacted.Redacted<string>): OutboxCrypto => {
  const key = Buffer.from(
    hkdfSync("sha256", Buffer.from(Redacted.value(secretKey), "utf8"), Buffer.alloc(0), "userharbor outbox v1", 32)
  )
  return {
    seal: (id, envelope) => {
      const iv = randomBytes(ivBytes)
      const cipher = createCipheriv("aes-256-gcm", key, iv)
      cipher.setAAD(Buffer.from(id, "utf8"))
      // The raw token exists as a plain string only here, between encoding and encryption.
      const plain = JSON.stringify(encodeEnvelope(envelope))
      const sealed = Buffer.concat([iv, cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()])
      return `${version}.${sealed.toString("base64url")}`
    },
    open: (id, payload) => {
      const [prefix, body] = payload.split(".")
      if (prefix !== version || body === undefined) return Effect.succeed(undefined)
      const sealed = Buffer.from(body, "base64url")
      if (sealed.length < ivBytes + tagBytes) return Effect.succeed(undefined)
      const plain = Effect.try(() => {
        const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, ivBytes))
        decipher.setAAD(Buffer.from(id, "utf8"))
        decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes))
        return Buffer.concat([decipher.update(sealed.subarray(ivBytes, sealed.length - tagBytes)), decipher.final()])
          .toString("utf8")
      })
      return plain.pipe(
        Effect.flatMap(decodeEnvelope),
        Effect.orElseSucceed(() => undefined)
      )
    }
  }
}
