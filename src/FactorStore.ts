/**
 * The storage port for second factors and passkeys: a user's TOTP factor and recovery codes, the challenges of a
 * two-step login, WebAuthn credentials (passkeys) and WebAuthn ceremony challenges. A store that keeps accounts
 * provides it on the same backend (`SqlUserStore.layer`, `MemoryUserStore.layer` do), and its writes then join the
 * `UserStore`'s `withTransaction`. UserHarbor uses it when it is in context: an app whose store does not provide it
 * keeps working, without second factors.
 *
 * The store never sees a secret in the clear: the TOTP secret is sealed by UserHarbor (AES-256-GCM under a key
 * derived from the secret key, the user id as associated data) and opaque here; recovery codes, login challenges
 * and WebAuthn challenges are keyed by their HMAC (`TokenHash`). A passkey's public key is not a secret.
 *
 * The contract (checked for every implementation by the factor cases of `StoreConformance`):
 * - A user has at most one TOTP factor, pending or active. `putPendingTotp` replaces a pending one but never an
 *   active one, checked in the same step as the write.
 * - `activateTotp` and `acceptTotpStep` are one atomic step each: a time step is accepted only if it is greater
 *   than the last one accepted, so of two concurrent uses of one code exactly one is accepted.
 * - `consumeRecoveryCode`, `consumeLoginChallenge` and `consumeWebAuthnChallenge` are atomic: of two concurrent
 *   consumers, one gets the record (or `true`) and the other nothing. Consumption removes a challenge whether or
 *   not it expired; the caller judges expiry (the port has no clock).
 * - A passkey's `credentialId` is unique across all users: `insertPasskey` answers `false` for one already stored.
 * - Passkey management methods take the user's id and touch only that user's passkeys.
 * - Deleting a user (`UserStore.deleteUser`, and the purges of unverified users) removes the user's factors, codes,
 *   login challenges, passkeys and registration challenges in the same step.
 * - Instants are epoch milliseconds from `Clock`.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { StoreError } from "./Errors.js"
import type { UserId } from "./User.js"
import type { TokenHash } from "./UserStore.js"

/**
 * A user's TOTP factor. `secret` is the sealed secret (opaque to the store). `active` is `false` while enrolment
 * waits for its first code. `lastStep` is the last RFC 6238 time step accepted (0 before any), so a code is never
 * accepted twice.
 *
 * @since 0.3.0
 * @category models
 */
export interface TotpFactorRecord {
  readonly userId: UserId
  readonly secret: string
  readonly active: boolean
  readonly lastStep: number
  readonly createdAt: number
  /** When the first code confirmed it; `None` while pending. */
  readonly activatedAt: Option.Option<number>
}

/**
 * What `putPendingTotp` writes: a fresh, unconfirmed factor.
 *
 * @since 0.3.0
 * @category models
 */
export interface PendingTotp {
  readonly userId: UserId
  readonly secret: string
  readonly createdAt: number
}

/**
 * A login that passed the password check and waits for its second factor. Single-use; bound to the password
 * version it was issued under, so a password change voids it.
 *
 * @since 0.3.0
 * @category models
 */
export interface LoginChallengeRecord {
  readonly tokenHash: TokenHash
  readonly userId: UserId
  readonly passwordVersion: number
  readonly createdAt: number
  readonly expiresAt: number
}

/**
 * How a passkey's authenticator keeps it: on one device, or synced across devices (WebAuthn's backup eligibility).
 *
 * @since 0.3.0
 * @category models
 */
export type PasskeyDeviceType = "singleDevice" | "multiDevice"

/**
 * A WebAuthn credential (passkey). `credentialId` is the credential's id as base64url, unique across all users;
 * `publicKey` the COSE-encoded public key; `counter` the authenticator's signature counter (0 for authenticators
 * that keep none); `name` the user's label for it.
 *
 * @since 0.3.0
 * @category models
 */
export interface PasskeyRecord {
  readonly credentialId: string
  readonly userId: UserId
  readonly publicKey: Uint8Array
  readonly counter: number
  readonly transports: ReadonlyArray<string>
  readonly deviceType: PasskeyDeviceType
  readonly backedUp: boolean
  readonly name: string
  readonly createdAt: number
  /** `None` until it signs a user in (or re-checks one) for the first time. */
  readonly lastUsedAt: Option.Option<number>
}

/**
 * What `recordPasskeyUse` writes after a verified assertion.
 *
 * @since 0.3.0
 * @category models
 */
export interface PasskeyUse {
  readonly credentialId: string
  readonly counter: number
  readonly backedUp: boolean
  readonly lastUsedAt: number
}

/**
 * Which WebAuthn ceremony a challenge is for.
 *
 * @since 0.3.0
 * @category models
 */
export type WebAuthnCeremony = "registration" | "authentication"

/**
 * A WebAuthn challenge handed to a browser, keyed by its HMAC. A registration challenge belongs to the signed-in
 * user who asked for it; an authentication challenge (usernameless sign-in) may belong to nobody yet.
 *
 * @since 0.3.0
 * @category models
 */
export interface WebAuthnChallengeRecord {
  readonly tokenHash: TokenHash
  readonly ceremony: WebAuthnCeremony
  readonly userId: Option.Option<UserId>
  readonly createdAt: number
  readonly expiresAt: number
}

/**
 * The shape of the `FactorStore` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface FactorStoreService {
  // TOTP
  readonly findTotp: (userId: UserId) => Effect.Effect<Option.Option<TotpFactorRecord>, StoreError>
  /**
   * Stores a pending factor (`active = false`, `lastStep = 0`), replacing the user's pending one; `false`, and no
   * change, when the user has an active factor (checked in the same step as the write).
   */
  readonly putPendingTotp: (pending: PendingTotp) => Effect.Effect<boolean, StoreError>
  /**
   * Activates the user's pending factor if its secret is still `secret` (a concurrent restart of the enrolment
   * replaces it) and records `step` as its last accepted step, in one step; `false` otherwise.
   */
  readonly activateTotp: (
    activation: { readonly userId: UserId; readonly secret: string; readonly step: number; readonly now: number }
  ) => Effect.Effect<boolean, StoreError>
  /**
   * Records `step` as the last accepted step of the user's active factor only if it is greater than the stored one,
   * in one statement; `false` (a replayed or older code, or no active factor) otherwise.
   */
  readonly acceptTotpStep: (
    acceptance: { readonly userId: UserId; readonly step: number }
  ) => Effect.Effect<boolean, StoreError>
  /** Removes the user's factor, pending or active; `false` when there was none. */
  readonly deleteTotp: (userId: UserId) => Effect.Effect<boolean, StoreError>

  // recovery codes
  /** Replaces all of the user's recovery codes with these (their HMACs). */
  readonly replaceRecoveryCodes: (
    codes: { readonly userId: UserId; readonly codeHashes: ReadonlyArray<TokenHash>; readonly createdAt: number }
  ) => Effect.Effect<void, StoreError>
  /** Removes one of the user's codes, atomically; `true` for the one consumer that removed it. */
  readonly consumeRecoveryCode: (userId: UserId, codeHash: TokenHash) => Effect.Effect<boolean, StoreError>
  readonly countRecoveryCodes: (userId: UserId) => Effect.Effect<number, StoreError>
  readonly deleteRecoveryCodes: (userId: UserId) => Effect.Effect<void, StoreError>

  // two-step login
  readonly insertLoginChallenge: (challenge: LoginChallengeRecord) => Effect.Effect<void, StoreError>
  readonly findLoginChallenge: (tokenHash: TokenHash) => Effect.Effect<Option.Option<LoginChallengeRecord>, StoreError>
  /** Removes the challenge, atomically, and returns it to the one consumer that removed it. */
  readonly consumeLoginChallenge: (
    tokenHash: TokenHash
  ) => Effect.Effect<Option.Option<LoginChallengeRecord>, StoreError>

  // passkeys
  /** Stores a new passkey; `false`, and no change, when its `credentialId` is stored already (any user's). */
  readonly insertPasskey: (passkey: PasskeyRecord) => Effect.Effect<boolean, StoreError>
  readonly findPasskey: (credentialId: string) => Effect.Effect<Option.Option<PasskeyRecord>, StoreError>
  /** The user's passkeys, oldest first (`createdAt`, then `credentialId`). */
  readonly listPasskeys: (userId: UserId) => Effect.Effect<ReadonlyArray<PasskeyRecord>, StoreError>
  /**
   * Records a verified use: the new counter, backup state and last use, only if `counter` is greater than the
   * stored one or both are 0 (an authenticator without a counter), in one statement; `false` otherwise (a cloned
   * authenticator, or a replay racing this use).
   */
  readonly recordPasskeyUse: (use: PasskeyUse) => Effect.Effect<boolean, StoreError>
  /** Renames the passkey if it is this user's; `false` when it does not exist or is another's. */
  readonly renamePasskey: (
    userId: UserId,
    credentialId: string,
    name: string
  ) => Effect.Effect<boolean, StoreError>
  /** Deletes the passkey if it is this user's; `false` when it does not exist or is another's. */
  readonly deletePasskey: (userId: UserId, credentialId: string) => Effect.Effect<boolean, StoreError>

  // WebAuthn ceremonies
  readonly insertWebAuthnChallenge: (challenge: WebAuthnChallengeRecord) => Effect.Effect<void, StoreError>
  /** Removes the challenge of this ceremony, atomically, and returns it to the one consumer that removed it. */
  readonly consumeWebAuthnChallenge: (
    ceremony: WebAuthnCeremony,
    tokenHash: TokenHash
  ) => Effect.Effect<Option.Option<WebAuthnChallengeRecord>, StoreError>

  // purging
  /**
   * Removes login and WebAuthn challenges that expired at or before `now`, at most `limit` rows in total, and
   * returns how many.
   */
  readonly purgeExpiredChallenges: (
    options: { readonly now: number; readonly limit: number }
  ) => Effect.Effect<number, StoreError>
}

/**
 * @since 0.3.0
 * @category tags
 */
export class FactorStore extends Context.Tag("userharbor/FactorStore")<FactorStore, FactorStoreService>() {}
