/**
 * Passkeys (WebAuthn) as the account service exchanges them with a browser: the options JSON handed to
 * `navigator.credentials.create()` / `.get()` (or `@simplewebauthn/browser`'s `startRegistration` /
 * `startAuthentication`), the responses they return, decoded with the schemas here, and a user's passkeys as
 * `listPasskeys` shows them. The verification itself runs on `@simplewebauthn/server`, an optional peer that is
 * loaded the first time a passkey response is verified, never by importing `userharbor`.
 *
 * @since 0.3.0
 */
import * as Schema from "effect/Schema"

// Credential ids are at most 1023 bytes (WebAuthn L3 5.8.3), so 1364 characters in unpadded base64url.
const Base64Url = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]*$/), Schema.maxLength(1364))
// Attestation objects and client data are larger; still bounded, so a request cannot make us decode megabytes.
const Blob = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]*$/), Schema.maxLength(65536))

/**
 * What `navigator.credentials.create()` returns, as JSON (`PublicKeyCredential.toJSON()`, or
 * `@simplewebauthn/browser`'s `startRegistration`). Decode a request body with it.
 *
 * @since 0.3.0
 * @category schemas
 */
export const RegistrationResponse = Schema.Struct({
  id: Base64Url,
  rawId: Base64Url,
  type: Schema.Literal("public-key"),
  response: Schema.Struct({
    clientDataJSON: Blob,
    attestationObject: Blob,
    transports: Schema.optional(Schema.Array(Schema.String.pipe(Schema.maxLength(32))).pipe(Schema.maxItems(16)))
  }),
  authenticatorAttachment: Schema.optional(Schema.String),
  clientExtensionResults: Schema.optional(Schema.Unknown)
})

/**
 * @since 0.3.0
 * @category models
 */
export type RegistrationResponse = typeof RegistrationResponse.Type

/**
 * What `navigator.credentials.get()` returns, as JSON (`PublicKeyCredential.toJSON()`, or
 * `@simplewebauthn/browser`'s `startAuthentication`). Decode a request body with it.
 *
 * @since 0.3.0
 * @category schemas
 */
export const AuthenticationResponse = Schema.Struct({
  id: Base64Url,
  rawId: Base64Url,
  type: Schema.Literal("public-key"),
  response: Schema.Struct({
    clientDataJSON: Blob,
    authenticatorData: Blob,
    signature: Blob,
    userHandle: Schema.optional(Base64Url)
  }),
  authenticatorAttachment: Schema.optional(Schema.String),
  clientExtensionResults: Schema.optional(Schema.Unknown)
})

/**
 * @since 0.3.0
 * @category models
 */
export type AuthenticationResponse = typeof AuthenticationResponse.Type

/**
 * A credential as options name it (to exclude or allow).
 *
 * @since 0.3.0
 * @category models
 */
export interface CredentialDescriptor {
  readonly id: string
  readonly type: "public-key"
  readonly transports?: ReadonlyArray<string>
}

/**
 * The options for `navigator.credentials.create()` (`PublicKeyCredentialCreationOptionsJSON`). `user.id` is an
 * opaque handle derived from the account's id under the secret key: it names no one, and is the same for every
 * passkey of the account. A discoverable credential and user verification are required; the user's passkeys are
 * excluded, so one authenticator is not registered twice.
 *
 * @since 0.3.0
 * @category models
 */
export interface CreationOptions {
  readonly rp: { readonly id: string; readonly name: string }
  readonly user: { readonly id: string; readonly name: string; readonly displayName: string }
  readonly challenge: string
  readonly pubKeyCredParams: ReadonlyArray<{ readonly type: "public-key"; readonly alg: number }>
  readonly timeout: number
  readonly excludeCredentials: ReadonlyArray<CredentialDescriptor>
  readonly authenticatorSelection: {
    readonly residentKey: "required"
    readonly requireResidentKey: true
    readonly userVerification: "required"
  }
  readonly attestation: "none"
  readonly extensions: { readonly credProps: true }
}

/**
 * The options for `navigator.credentials.get()` (`PublicKeyCredentialRequestOptionsJSON`). For a usernameless
 * sign-in `allowCredentials` is empty (the authenticator offers the passkeys it holds for the site); for a re-check
 * it lists the signed-in user's passkeys.
 *
 * @since 0.3.0
 * @category models
 */
export interface RequestOptions {
  readonly challenge: string
  readonly rpId: string
  readonly timeout: number
  readonly userVerification: "required"
  readonly allowCredentials: ReadonlyArray<CredentialDescriptor>
}

/**
 * One of a user's passkeys, as `listPasskeys` shows it. `id` is the credential id, the one `renamePasskey` and
 * `removePasskey` take. `synced` is whether the authenticator syncs it across devices (WebAuthn's backup
 * eligibility), `backedUp` whether it is backed up now.
 *
 * @since 0.3.0
 * @category models
 */
export interface PasskeySummary {
  readonly id: string
  readonly name: string
  readonly transports: ReadonlyArray<string>
  readonly synced: boolean
  readonly backedUp: boolean
  readonly createdAt: Date
  readonly lastUsedAt: Date | undefined
}
