/**
 * TOTP (RFC 6238) on the `otpauth` library: HMAC-SHA1, 6 digits, 30-second steps, one step of drift either way.
 * `otpauth` is an optional dependency, loaded on first use, so the core entry never loads it and an app that does
 * not use TOTP need not install it. Time is the caller's (from `Clock`), never the library's own `Date.now`.
 */
import * as Effect from "effect/Effect"

/** 160 bits, the size RFC 4226 recommends and authenticator apps expect. */
export const secretBytes = 20
export const digits = 6
export const periodSeconds = 30
/** Steps of drift accepted either side of the current one. */
export const window = 1

type OtpAuth = typeof import("otpauth")

// Node caches the module: later calls resolve at once.
const otpauth: Effect.Effect<OtpAuth> = Effect.tryPromise({
  try: () => import("otpauth"),
  catch: (cause) =>
    new Error("UserHarbor: TOTP needs the optional dependency `otpauth` (npm install otpauth@^9)", { cause })
}).pipe(Effect.orDie)

const options = { algorithm: "SHA1", digits, period: periodSeconds } as const

/** The RFC 6238 time step of an instant (epoch milliseconds). */
export const stepAt = (now: number): number => Math.floor(now / 1000 / periodSeconds)

/** The secret in base32, as authenticator apps take it when typed in. */
export const toBase32 = (secret: Uint8Array): Effect.Effect<string> =>
  Effect.map(otpauth, ({ Secret }) => new Secret({ buffer: toArrayBuffer(secret) }).base32)

/** The `otpauth://totp/…` URI that authenticator apps read from a QR code. */
export const uri = (
  params: { readonly issuer: string; readonly label: string; readonly secret: string }
): Effect.Effect<string> =>
  Effect.map(otpauth, ({ Secret, TOTP }) =>
    new TOTP({
      ...options,
      issuer: params.issuer,
      label: params.label,
      secret: Secret.fromBase32(params.secret)
    }).toString())

/** Whether `code` has the shape of a TOTP code (spaces allowed between digits, as apps show them). */
export const normalizeCode = (code: string): string | undefined => {
  const digitsOnly = code.replace(/\s+/g, "")
  return /^\d{6}$/.test(digitsOnly) ? digitsOnly : undefined
}

/**
 * The time step at which `code` is the secret's code, within one step of `now`'s, or `undefined`. The comparison
 * is `otpauth`'s, in constant time.
 */
export const matchingStep = (secret: string, code: string, now: number): Effect.Effect<number | undefined> =>
  Effect.map(otpauth, ({ Secret, TOTP }) => {
    const delta = TOTP.validate({ ...options, token: code, secret: Secret.fromBase32(secret), timestamp: now, window })
    return delta === null ? undefined : stepAt(now) + delta
  })

/** The code of `secret` at `now` (for tests and examples, which play the authenticator). */
export const codeAt = (secret: string, now: number): Effect.Effect<string> =>
  Effect.map(
    otpauth,
    ({ Secret, TOTP }) => TOTP.generate({ ...options, secret: Secret.fromBase32(secret), timestamp: now })
  )

const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer => {
  const copy = new ArrayBuffer(bytes.byteLength)
  new Uint8Array(copy).set(bytes)
  return copy
}
