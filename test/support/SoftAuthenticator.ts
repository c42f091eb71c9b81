/**
 * A software WebAuthn authenticator for node-level tests: what a browser and a platform authenticator together
 * hand to the server, built from an ES256 key pair of node:crypto, with "none" attestation. It keeps its
 * credentials (discoverable, like passkeys) and lets a test bend any part of a ceremony: the origin, the rpId, the
 * UV flag, the signature counter, the challenge.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto"

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")
const sha256 = (data: Uint8Array | string): Buffer => createHash("sha256").update(data).digest()

// The CBOR subset WebAuthn needs (RFC 8949): unsigned and negative integers, byte and text strings, maps.
type Cbor = number | string | Uint8Array | Map<number | string, Cbor>
const head = (major: number, length: number): Buffer => {
  if (length < 24) return Buffer.from([(major << 5) | length])
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length])
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff])
  const out = Buffer.alloc(5)
  out[0] = (major << 5) | 26
  out.writeUInt32BE(length, 1)
  return out
}
export const encodeCbor = (value: Cbor): Buffer => {
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value)
  if (typeof value === "string") {
    const text = Buffer.from(value, "utf8")
    return Buffer.concat([head(3, text.length), text])
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value])
  const entries = [...value.entries()].map(([key, item]) => Buffer.concat([encodeCbor(key), encodeCbor(item)]))
  return Buffer.concat([head(5, value.size), ...entries])
}

/** The parts of the options JSON a browser reads (the library's `PublicKeyCredentialCreationOptionsJSON`). */
export interface CreationOptions {
  readonly rp: { readonly id?: string | undefined; readonly name: string }
  readonly user: { readonly id: string; readonly name: string }
  readonly challenge: string
}

/** The parts of the request options JSON a browser reads. */
export interface RequestOptions {
  readonly challenge: string
  readonly rpId?: string | undefined
  readonly allowCredentials?: ReadonlyArray<{ readonly id: string }> | undefined
}

/** What a test may bend in one ceremony. */
export interface Tweaks {
  /** The origin the "browser" reports; default the authenticator's. */
  readonly origin?: string
  /** The rpId the authenticator hashes into authenticatorData; default the options' rpId. */
  readonly rpId?: string
  /** Whether the user was verified (the UV flag); default `true`. */
  readonly userVerified?: boolean
  /** Replaces the challenge the "browser" signs. */
  readonly challenge?: string
  /** The signature counter to report instead of the next one. */
  readonly counter?: number
}

interface Credential {
  readonly id: Buffer
  readonly privateKey: KeyObject
  readonly cose: Buffer
  readonly rpId: string
  readonly userHandle: string
  counter: number
}

const flags = { up: 0x01, uv: 0x04, at: 0x40 } as const

export class SoftAuthenticator {
  private readonly credentials: Array<Credential> = []

  constructor(
    readonly origin: string,
    /** How much the counter grows per use; 0 models an authenticator that keeps none. */
    private readonly step = 1
  ) {}

  private authData(rpId: string, counter: number, userVerified: boolean, attested?: Credential): Buffer {
    const flagByte = flags.up | (userVerified ? flags.uv : 0) | (attested === undefined ? 0 : flags.at)
    const count = Buffer.alloc(4)
    count.writeUInt32BE(counter)
    const parts = [sha256(rpId), Buffer.from([flagByte]), count]
    if (attested !== undefined) {
      const length = Buffer.alloc(2)
      length.writeUInt16BE(attested.id.length)
      parts.push(Buffer.alloc(16), length, attested.id, attested.cose)
    }
    return Buffer.concat(parts)
  }

  private clientData(type: "webauthn.create" | "webauthn.get", challenge: string, tweaks: Tweaks): Buffer {
    return Buffer.from(
      JSON.stringify({
        type,
        challenge: tweaks.challenge ?? challenge,
        origin: tweaks.origin ?? this.origin,
        crossOrigin: false
      }),
      "utf8"
    )
  }

  /** `navigator.credentials.create()`: a new discoverable credential and its registration response JSON. */
  register(options: CreationOptions, tweaks: Tweaks = {}) {
    const rpId = tweaks.rpId ?? options.rp.id ?? new URL(this.origin).hostname
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" })
    const jwk = publicKey.export({ format: "jwk" })
    // COSE_Key (RFC 9053): kty EC2, alg ES256, crv P-256, x, y.
    const cose = encodeCbor(
      new Map<number, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x ?? "", "base64url")],
        [-3, Buffer.from(jwk.y ?? "", "base64url")]
      ])
    )
    const credential: Credential = {
      id: randomBytes(16),
      privateKey,
      cose,
      rpId,
      userHandle: options.user.id,
      counter: tweaks.counter ?? 0
    }
    this.credentials.push(credential)
    const authData = this.authData(rpId, credential.counter, tweaks.userVerified ?? true, credential)
    const attestationObject = encodeCbor(
      new Map<string, Cbor>([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]])
    )
    const id = b64url(credential.id)
    return {
      id,
      rawId: id,
      type: "public-key" as const,
      response: {
        clientDataJSON: b64url(this.clientData("webauthn.create", options.challenge, tweaks)),
        attestationObject: b64url(attestationObject),
        transports: ["internal", "hybrid"]
      },
      authenticatorAttachment: "platform" as const,
      clientExtensionResults: {}
    }
  }

  /** `navigator.credentials.get()`: an assertion by the first credential allowed (any, for a usernameless one). */
  authenticate(options: RequestOptions, tweaks: Tweaks = {}) {
    const allowed = options.allowCredentials?.map((descriptor) => descriptor.id)
    const credential = this.credentials.find((candidate) =>
      allowed === undefined || allowed.length === 0 || allowed.includes(b64url(candidate.id))
    )
    if (credential === undefined) throw new Error("SoftAuthenticator: no credential for these options")
    credential.counter = tweaks.counter ?? credential.counter + this.step
    const rpId = tweaks.rpId ?? options.rpId ?? credential.rpId
    const authData = this.authData(rpId, credential.counter, tweaks.userVerified ?? true)
    const clientDataJSON = this.clientData("webauthn.get", options.challenge, tweaks)
    // ES256 signatures are ASN.1 DER, node's default encoding for EC keys.
    const signature = sign("sha256", Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey)
    const id = b64url(credential.id)
    return {
      id,
      rawId: id,
      type: "public-key" as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle
      },
      authenticatorAttachment: "platform" as const,
      clientExtensionResults: {}
    }
  }

  /** A second authenticator holding copies of these credentials, counters included (a cloned key). */
  clone(): SoftAuthenticator {
    const copy = new SoftAuthenticator(this.origin, this.step)
    for (const credential of this.credentials) copy.credentials.push({ ...credential })
    return copy
  }

  /** The ids (base64url) of the credentials it holds. */
  get credentialIds(): ReadonlyArray<string> {
    return this.credentials.map((credential) => b64url(credential.id))
  }
}
