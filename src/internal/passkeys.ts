/**
 * The account service's passkeys (WebAuthn): registration for a signed-in user, the user's list, usernameless
 * sign-in, and the re-check that stands in for a password before a sensitive change.
 *
 * Every ceremony's challenge is a fresh 256-bit token, stored by its HMAC through the factor port with its ceremony,
 * its user (none for a sign-in) and its expiry, and consumed by the response that signs it, whatever the outcome:
 * a challenge works once. The reasons a response is refused are judged here, before the library runs, so that each
 * has its own typed answer: the client data (type, challenge, origin), then the authenticator data (rpId hash, UP
 * and UV flags, counter); the library then verifies the attestation or the signature.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { createHash, timingSafeEqual } from "node:crypto"
import {
  type AccountLocked,
  EmailNotVerified,
  InvalidPasskey,
  InvalidPasskeyChallenge,
  InvalidPasskeyName,
  type InvalidSession,
  PasskeyNotFound,
  type StoreError
} from "../Errors.js"
import type { FactorStoreService, PasskeyRecord, WebAuthnCeremony } from "../FactorStore.js"
import type {
  AuthenticationResponse,
  CreationOptions,
  CredentialDescriptor,
  PasskeySummary,
  RegistrationResponse,
  RequestOptions
} from "../Passkey.js"
import type { Session, UserId } from "../User.js"
import type { PasskeySettings } from "../UserHarborConfig.js"
import type { SessionUser, UserStoreService } from "../UserStore.js"
import type { SecretInput } from "./secrets.js"
import type * as Tokens from "./tokens.js"
import * as WebAuthn from "./webauthn.js"

export interface Deps {
  readonly factors: Option.Option<FactorStoreService>
  readonly settings: PasskeySettings | undefined
  readonly store: UserStoreService
  readonly tokens: Tokens.Tokens
  readonly checkSession: (
    sessionToken: SecretInput
  ) => Effect.Effect<{ readonly user: SessionUser }, InvalidSession | StoreError>
  readonly newSession: (userId: UserId) => Effect.Effect<Session, AccountLocked | StoreError>
}

// ES256 first (every platform authenticator), then EdDSA and RS256 (security keys, Windows Hello).
const algorithms = [-7, -8, -257].map((alg) => ({ type: "public-key" as const, alg }))

const ClientData = Schema.parseJson(
  Schema.Struct({ type: Schema.String, challenge: Schema.String, origin: Schema.String })
)
const decodeClientData = Schema.decodeUnknownEither(ClientData)

const flagUserPresent = 0x01
const flagUserVerified = 0x04

const malformed = () => new InvalidPasskey({ reason: "malformed" })
const unknownChallenge = () => new InvalidPasskeyChallenge({ reason: "unknown" })

/** A user's label for a passkey: trimmed, 1 to 64 characters. */
export const validateName = (name: string): Effect.Effect<string, InvalidPasskeyName> => {
  const trimmed = name.trim()
  return trimmed.length >= 1 && [...trimmed].length <= 64 ? Effect.succeed(trimmed) : new InvalidPasskeyName()
}

const summary = (record: PasskeyRecord): PasskeySummary => ({
  id: record.credentialId,
  name: record.name,
  transports: record.transports,
  synced: record.deviceType === "multiDevice",
  backedUp: record.backedUp,
  createdAt: new Date(record.createdAt),
  lastUsedAt: Option.getOrUndefined(Option.map(record.lastUsedAt, (at) => new Date(at)))
})

const descriptor = (record: PasskeyRecord): CredentialDescriptor => ({
  id: record.credentialId,
  type: "public-key",
  transports: record.transports
})

const sameUser = Option.getEquivalence<UserId>((a, b) => a === b)

export const make = Effect.fnUntraced(function*(deps: Deps) {
  const { checkSession, newSession, store, tokens } = deps
  // The library loads when a response is first verified, not here.
  const webauthn = yield* WebAuthn.make
  // Without config or a store that keeps factors there are no passkeys: calling for one is a wiring mistake.
  const ready = Effect.suspend(() => {
    if (deps.settings === undefined) {
      return Effect.dieMessage("UserHarbor: passkeys are off; set UserHarborConfig's `passkeys` option")
    }
    if (Option.isNone(deps.factors)) {
      return Effect.dieMessage("UserHarbor: passkeys need a store that provides FactorStore")
    }
    return Effect.succeed({ settings: deps.settings, factors: deps.factors.value })
  })

  const rpIdHash = (rpId: string) => createHash("sha256").update(rpId, "utf8").digest()
  // Opaque and stable: the same handle for every passkey of an account, naming no one, kept nowhere.
  const userHandle = (userId: UserId) =>
    Buffer.from(tokens.digest(`webauthn-user-handle:${userId}`), "hex").toString("base64url")

  // A fresh challenge for a ceremony, stored by its HMAC until `challengeTtl` passes.
  const issueChallenge = Effect.fnUntraced(function*(ceremony: WebAuthnCeremony, userId: Option.Option<UserId>) {
    const { factors, settings } = yield* ready
    const { token, tokenHash } = yield* tokens.issue
    const now = yield* Clock.currentTimeMillis
    const ttl = Duration.toMillis(settings.challengeTtl)
    yield* factors.insertWebAuthnChallenge({ tokenHash, ceremony, userId, createdAt: now, expiresAt: now + ttl })
    return { challenge: Redacted.value(token), timeout: ttl, settings }
  })

  // The client data of a response: its type, then its challenge (consumed here, so it works once whatever follows),
  // then its origin.
  const openResponse = Effect.fnUntraced(function*(
    ceremony: WebAuthnCeremony,
    clientDataJSON: string,
    userId: Option.Option<UserId>
  ) {
    const { factors, settings } = yield* ready
    const clientData = decodeClientData(Buffer.from(clientDataJSON, "base64url").toString("utf8"))
    if (Either.isLeft(clientData)) return yield* malformed()
    const { challenge, origin, type } = clientData.right
    if (type !== (ceremony === "registration" ? "webauthn.create" : "webauthn.get")) return yield* malformed()
    const tokenHash = tokens.hashOf(challenge)
    if (tokenHash === undefined) return yield* unknownChallenge()
    const record = yield* factors.consumeWebAuthnChallenge(ceremony, tokenHash)
    // A challenge handed to another user, or a sign-in's used for a re-check, is not this ceremony's.
    if (Option.isNone(record) || !sameUser(record.value.userId, userId)) return yield* unknownChallenge()
    const now = yield* Clock.currentTimeMillis
    if (now >= record.value.expiresAt) return yield* new InvalidPasskeyChallenge({ reason: "expired" })
    if (!settings.origins.includes(origin)) return yield* new InvalidPasskey({ reason: "origin" })
    return { factors, settings, now, expected: { challenge, origins: settings.origins, rpId: settings.rpId } }
  })

  // The authenticator data's rpId hash and flags (WebAuthn 6.1); its signature counter.
  const checkAuthData = (authData: Uint8Array, rpId: string): Effect.Effect<number, InvalidPasskey> => {
    if (authData.length < 37) return Effect.fail(malformed())
    const bytes = Buffer.from(authData)
    if (!timingSafeEqual(bytes.subarray(0, 32), rpIdHash(rpId))) {
      return Effect.fail(new InvalidPasskey({ reason: "rp-id" }))
    }
    const flags = bytes[32] ?? 0
    if ((flags & flagUserPresent) === 0 || (flags & flagUserVerified) === 0) {
      return Effect.fail(new InvalidPasskey({ reason: "user-verification" }))
    }
    return Effect.succeed(bytes.readUInt32BE(33))
  }

  const beginRegistration = Effect.fnUntraced(function*(sessionToken: SecretInput) {
    const { user } = yield* checkSession(sessionToken)
    const { factors } = yield* ready
    const existing = yield* factors.listPasskeys(user.id)
    const { challenge, settings, timeout } = yield* issueChallenge("registration", Option.some(user.id))
    return {
      rp: { id: settings.rpId, name: settings.rpName },
      user: { id: userHandle(user.id), name: user.username, displayName: user.username },
      challenge,
      pubKeyCredParams: algorithms,
      timeout,
      excludeCredentials: existing.map(descriptor),
      authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
      attestation: "none",
      extensions: { credProps: true }
    } satisfies CreationOptions
  })

  const finishRegistration = Effect.fnUntraced(function*(
    sessionToken: SecretInput,
    response: RegistrationResponse,
    name: string
  ) {
    const label = yield* validateName(name)
    const { user } = yield* checkSession(sessionToken)
    const opened = yield* openResponse("registration", response.response.clientDataJSON, Option.some(user.id))
    const library = yield* webauthn
    const authData = library.authDataOf(response.response.attestationObject)
    if (Option.isNone(authData)) return yield* malformed()
    yield* checkAuthData(authData.value, opened.settings.rpId)
    const registered = yield* library.verifyRegistration(response, opened.expected)
    if (Option.isNone(registered)) return yield* new InvalidPasskey({ reason: "invalid" })
    const { backedUp, counter, credentialId, publicKey, synced, transports } = registered.value
    const record: PasskeyRecord = {
      credentialId,
      userId: user.id,
      publicKey,
      counter,
      transports,
      deviceType: synced ? "multiDevice" : "singleDevice",
      backedUp,
      name: label,
      createdAt: opened.now,
      lastUsedAt: Option.none()
    }
    if (!(yield* opened.factors.insertPasskey(record))) {
      return yield* new InvalidPasskey({ reason: "already-registered" })
    }
    return summary(record)
  })

  const requestOptions = Effect.fnUntraced(function*(
    userId: Option.Option<UserId>,
    allow: ReadonlyArray<PasskeyRecord>
  ) {
    const { challenge, settings, timeout } = yield* issueChallenge("authentication", userId)
    return {
      challenge,
      rpId: settings.rpId,
      timeout,
      userVerification: "required",
      allowCredentials: allow.map(descriptor)
    } satisfies RequestOptions
  })

  // A verified assertion by one of `userId`'s passkeys (any user's, for a sign-in), its use recorded.
  const assertion = Effect.fnUntraced(function*(response: AuthenticationResponse, userId: Option.Option<UserId>) {
    const opened = yield* openResponse("authentication", response.response.clientDataJSON, userId)
    const counter = yield* checkAuthData(
      Buffer.from(response.response.authenticatorData, "base64url"),
      opened.settings.rpId
    )
    const unknownCredential = new InvalidPasskey({ reason: "unknown-credential" })
    const found = yield* opened.factors.findPasskey(response.id)
    if (Option.isNone(found)) return yield* unknownCredential
    const passkey = found.value
    if (Option.isSome(userId) && passkey.userId !== userId.value) return yield* unknownCredential
    const { userHandle: handle } = response.response
    if (handle !== undefined && handle !== userHandle(passkey.userId)) return yield* unknownCredential
    // A counter that did not grow means two authenticators hold this key (WebAuthn 6.1.1); 0 and 0: none kept.
    if ((counter > 0 || passkey.counter > 0) && counter <= passkey.counter) {
      return yield* new InvalidPasskey({ reason: "counter" })
    }
    const library = yield* webauthn
    const verified = yield* library.verifyAuthentication(response, opened.expected, passkey)
    if (Option.isNone(verified)) return yield* new InvalidPasskey({ reason: "invalid" })
    const recorded = yield* opened.factors.recordPasskeyUse({
      credentialId: passkey.credentialId,
      counter: verified.value.counter,
      backedUp: verified.value.backedUp,
      lastUsedAt: opened.now
    })
    // A concurrent use with the same or a higher counter won: one of the two is a replay or a clone.
    if (!recorded) return yield* new InvalidPasskey({ reason: "counter" })
    return passkey
  })

  const finishLogin = Effect.fnUntraced(function*(response: AuthenticationResponse) {
    const passkey = yield* assertion(response, Option.none())
    const user = yield* store.findUserById(passkey.userId)
    if (Option.isNone(user)) return yield* new InvalidPasskey({ reason: "unknown-credential" })
    // As for a password login; the assertion already proved the caller holds the account's key.
    if (!user.value.verified) return yield* new EmailNotVerified()
    return yield* newSession(user.value.id)
  })

  const beginReauthentication = Effect.fnUntraced(function*(sessionToken: SecretInput) {
    const { user } = yield* checkSession(sessionToken)
    const { factors } = yield* ready
    return yield* requestOptions(Option.some(user.id), yield* factors.listPasskeys(user.id))
  })

  const list = Effect.fnUntraced(function*(sessionToken: SecretInput) {
    const { user } = yield* checkSession(sessionToken)
    const { factors } = yield* ready
    return (yield* factors.listPasskeys(user.id)).map(summary)
  })

  const rename = Effect.fnUntraced(function*(sessionToken: SecretInput, passkeyId: string, name: string) {
    const label = yield* validateName(name)
    const { user } = yield* checkSession(sessionToken)
    const { factors } = yield* ready
    if (!(yield* factors.renamePasskey(user.id, passkeyId, label))) return yield* new PasskeyNotFound()
  })

  const remove = Effect.fnUntraced(function*(sessionToken: SecretInput, passkeyId: string) {
    const { user } = yield* checkSession(sessionToken)
    const { factors } = yield* ready
    if (!(yield* factors.deletePasskey(user.id, passkeyId))) return yield* new PasskeyNotFound()
  })

  return {
    beginRegistration,
    finishRegistration,
    list,
    rename,
    remove,
    beginLogin: requestOptions(Option.none(), []),
    finishLogin,
    beginReauthentication,
    /** The re-check of a signed-in user by one of their passkeys. */
    reauthenticate: (response: AuthenticationResponse, userId: UserId) =>
      Effect.asVoid(assertion(response, Option.some(userId)))
  }
})
