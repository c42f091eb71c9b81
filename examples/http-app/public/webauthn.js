// WebAuthn in the browser without a bundler: the server's options JSON turned into what
// `navigator.credentials.create()` / `.get()` take (binary fields as bytes), and their results turned back into
// JSON with base64url fields, the encoding @simplewebauthn/browser uses and `Passkey.RegistrationResponse` /
// `Passkey.AuthenticationResponse` decode.

const toBytes = (base64url) => {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4)
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0))
}

const toBase64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

const descriptors = (list) => list.map((credential) => ({ ...credential, id: toBytes(credential.id) }))

// `null` fields are left out: the server's schema has them optional, not nullable.
const common = (credential) => ({
  id: credential.id,
  rawId: toBase64url(credential.rawId),
  type: credential.type,
  ...(credential.authenticatorAttachment ? { authenticatorAttachment: credential.authenticatorAttachment } : {}),
  clientExtensionResults: credential.getClientExtensionResults()
})

/** Registers a passkey with the options of `POST /api/accounts/me/passkeys/options`; returns the response JSON. */
export const createPasskey = async (options) => {
  const credential = await navigator.credentials.create({
    publicKey: {
      ...options,
      challenge: toBytes(options.challenge),
      user: { ...options.user, id: toBytes(options.user.id) },
      excludeCredentials: descriptors(options.excludeCredentials)
    }
  })
  const { response } = credential
  return {
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      attestationObject: toBase64url(response.attestationObject),
      transports: typeof response.getTransports === "function" ? response.getTransports() : []
    }
  }
}

/** Asks for a passkey with the options of a `…/options` request; returns the assertion JSON. */
export const getPasskey = async (options) => {
  const credential = await navigator.credentials.get({
    publicKey: {
      ...options,
      challenge: toBytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials)
    }
  })
  const { response } = credential
  return {
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      ...(response.userHandle ? { userHandle: toBase64url(response.userHandle) } : {})
    }
  }
}

/** Whether this browser can use passkeys at all. */
export const passkeysSupported = () => typeof window.PublicKeyCredential === "function"
