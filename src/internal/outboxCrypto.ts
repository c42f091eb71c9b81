import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { EmailMessage } from "../EmailSender.js"
import * as Sealing from "./sealing.js"

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

export interface OutboxCrypto {
  /** Encodes and encrypts the envelope, bound to the row id. */
  readonly seal: (id: string, envelope: Envelope) => string
  /** Decrypts and decodes a payload; `undefined` when it was not sealed for this id under this key. */
  readonly open: (id: string, payload: string) => Effect.Effect<Envelope | undefined>
}

const encodeEnvelope = Schema.encodeSync(Envelope)
const decodeEnvelope = Schema.decodeUnknown(Schema.parseJson(Envelope))

/** Sealed (see internal/sealing.ts) under the `userharbor outbox v1` key, the row id as associated data. */
export const make = (secretKey: Redacted.Redacted<string>): OutboxCrypto => {
  const sealer = Sealing.make(secretKey, "userharbor outbox v1")
  return {
    // The raw token exists as a plain string only here, between encoding and encryption.
    seal: (id, envelope) => sealer.seal(id, JSON.stringify(encodeEnvelope(envelope))),
    open: (id, payload) => {
      const plain = sealer.open(id, payload)
      return plain === undefined
        ? Effect.succeed(undefined)
        : Effect.orElseSucceed(decodeEnvelope(plain), () => undefined)
    }
  }
}
