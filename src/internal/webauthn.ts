/**
 * The one module that touches `@simplewebauthn/server`, an optional peer: it is imported dynamically the first time
 * a passkey response is verified, so `import "userharbor"` never loads it and apps without passkeys need not
 * install it. Its types stay in here: nothing exported names them, so no public declaration needs the package.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AuthenticationResponse, RegistrationResponse } from "../Passkey.js"

export interface Expected {
  readonly challenge: string
  readonly origins: ReadonlyArray<string>
  readonly rpId: string
}

export interface Registered {
  readonly credentialId: string
  readonly publicKey: Uint8Array
  readonly counter: number
  readonly transports: ReadonlyArray<string>
  readonly synced: boolean
  readonly backedUp: boolean
}

export interface Asserted {
  readonly counter: number
  readonly backedUp: boolean
}

export interface StoredCredential {
  readonly credentialId: string
  readonly publicKey: Uint8Array
  readonly counter: number
  readonly transports: ReadonlyArray<string>
}

/** The library's verifications, each `None` when it refuses the response (whatever its reason). */
export interface WebAuthn {
  /** The authenticator data inside an attestation object, if it decodes. */
  readonly authDataOf: (attestationObject: string) => Option.Option<Uint8Array>
  readonly verifyRegistration: (
    response: RegistrationResponse,
    expected: Expected
  ) => Effect.Effect<Option.Option<Registered>>
  readonly verifyAuthentication: (
    response: AuthenticationResponse,
    expected: Expected,
    credential: StoredCredential
  ) => Effect.Effect<Option.Option<Asserted>>
}

const missing = (cause: unknown) =>
  new Error(
    "UserHarbor: passkeys need the optional peer dependency @simplewebauthn/server (npm install @simplewebauthn/server)",
    { cause }
  )

const load = Effect.tryPromise({
  try: () => Promise.all([import("@simplewebauthn/server"), import("@simplewebauthn/server/helpers")]),
  catch: missing
}).pipe(Effect.orDie)

// The library reports every refusal as a thrown `Error` whose only detail is its message; the reasons the service
// names are checked before it runs (internal/passkeys.ts), so here any refusal is just that.
const refused = <A>(promise: () => Promise<A>): Effect.Effect<Option.Option<A>> =>
  Effect.orElseSucceed(Effect.map(Effect.tryPromise(promise), Option.some<A>), () => Option.none<A>())

/** Loads the library on first use (once per service), then hands out its verifications. */
export const make: Effect.Effect<Effect.Effect<WebAuthn>> = Effect.cached(Effect.map(load, ([server, helpers]) => {
  const webauthn: WebAuthn = {
    authDataOf: (attestationObject) => {
      try {
        const decoded = helpers.decodeAttestationObject(helpers.isoBase64URL.toBuffer(attestationObject))
        return Option.fromNullable(decoded.get("authData"))
      } catch {
        return Option.none()
      }
    },
    verifyRegistration: (response, expected) =>
      Effect.map(
        refused(() =>
          server.verifyRegistrationResponse({
            // Only what verification reads; extensions are not used, so what the client reports of them is not.
            response: {
              id: response.id,
              rawId: response.rawId,
              type: response.type,
              response: {
                clientDataJSON: response.response.clientDataJSON,
                attestationObject: response.response.attestationObject
              },
              clientExtensionResults: {}
            },
            expectedChallenge: expected.challenge,
            expectedOrigin: [...expected.origins],
            expectedRPID: expected.rpId,
            requireUserVerification: true
          })
        ),
        Option.flatMap((verified) =>
          verified.verified
            ? Option.some({
              credentialId: verified.registrationInfo.credential.id,
              publicKey: verified.registrationInfo.credential.publicKey,
              counter: verified.registrationInfo.credential.counter,
              transports: response.response.transports ?? verified.registrationInfo.credential.transports ?? [],
              synced: verified.registrationInfo.credentialDeviceType === "multiDevice",
              backedUp: verified.registrationInfo.credentialBackedUp
            })
            : Option.none()
        )
      ),
    verifyAuthentication: (response, expected, credential) =>
      Effect.map(
        refused(() =>
          server.verifyAuthenticationResponse({
            response: {
              id: response.id,
              rawId: response.rawId,
              type: response.type,
              response: {
                clientDataJSON: response.response.clientDataJSON,
                authenticatorData: response.response.authenticatorData,
                signature: response.response.signature
              },
              clientExtensionResults: {}
            },
            expectedChallenge: expected.challenge,
            expectedOrigin: [...expected.origins],
            expectedRPID: expected.rpId,
            credential: {
              id: credential.credentialId,
              publicKey: new Uint8Array(credential.publicKey),
              counter: credential.counter,
              transports: [...credential.transports]
            },
            requireUserVerification: true
          })
        ),
        Option.flatMap((verified) =>
          verified.verified
            ? Option.some({
              counter: verified.authenticationInfo.newCounter,
              backedUp: verified.authenticationInfo.credentialBackedUp
            })
            : Option.none()
        )
      )
  }
  return webauthn
}))
