/**
 * The HTTP API: six groups (`accounts`, `sessions`, `factors`, `passkeys`, `emailChange`, `activity`), one endpoint per UserHarbor operation,
 * every domain error mapped to a status, and the middlewares that guard it (`BodyLimit` for request sizes, `OriginCheck` for CSRF,
 * and the library's `HttpSession.Authentication` for the session cookie).
 *
 * This file only describes the API; `Handlers.ts` implements it. An `HttpApiClient` or an OpenAPI generator can
 * use it as it is.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"
import {
  AccountLocked,
  Busy,
  EmailDeliveryError,
  EmailNotVerified,
  EmailTaken,
  EmailUnchanged,
  InvalidChallenge,
  InvalidCode,
  InvalidCredentials,
  InvalidEmail,
  InvalidPasskey,
  InvalidPasskeyChallenge,
  InvalidPasskeyName,
  InvalidToken,
  InvalidUsername,
  PasskeyNotFound,
  SecondFactorRequired,
  SessionNotFound,
  TooManyAttempts,
  TotpAlreadyEnabled,
  TotpNotEnabled,
  UsernameTaken,
  WeakPassword
} from "../../src/Errors.js"
import { HttpErrors, HttpSession } from "../../src/http.js"
import * as Passkey from "../../src/Passkey.js"

// ---------------------------------------------------------------------------------------------------------------
// Errors on the wire
// ---------------------------------------------------------------------------------------------------------------

// Each library error as a body with its status (`HttpErrors.body`: its fields plus `message`).
const errorBody = HttpErrors.body

// Validation failures are well-formed requests with unacceptable content: 422, not 400 (kept for bad JSON).
export const InvalidUsernameError = errorBody(InvalidUsername, 422)
export const InvalidEmailError = errorBody(InvalidEmail, 422)
export const WeakPasswordError = errorBody(WeakPassword, 422)
export const UsernameTakenError = errorBody(UsernameTaken, 409)
export const InvalidCredentialsError = errorBody(InvalidCredentials, 401)
export const EmailNotVerifiedError = errorBody(EmailNotVerified, 403)
// Locked by an administrator; like the one above, only ever the answer to the right password.
export const AccountLockedError = errorBody(AccountLocked, 403)
// The password was right; the body carries the challenge for the second step (docs/second-factors.md).
export const SecondFactorRequiredError = errorBody(SecondFactorRequired, 401)
// From `userharbor/http`: the same schemas as `HttpSession.Authentication`'s failures.
export const InvalidSessionError = HttpErrors.InvalidSessionBody
export const InvalidTokenError = errorBody(InvalidToken, 400)
// Unknown, already ended, or another user's: the same 404, so ids of other people's sessions reveal nothing.
export const SessionNotFoundError = errorBody(SessionNotFound, 404)
// The mail server is the upstream that failed; `detail` is secret-free by the `EmailSender` contract.
export const EmailDeliveryErrorBody = errorBody(EmailDeliveryError, 502)
// Throttled login (`retryAfter` says how long) and a full hashing queue: both worth retrying later.
export const TooManyAttemptsError = errorBody(TooManyAttempts, 429)
export const BusyError = errorBody(Busy, 503)
// Second factors (docs/second-factors.md): a wrong code or a spent challenge is a failed authentication (401); a
// factor in the wrong state for the call is a conflict (409).
export const InvalidChallengeError = errorBody(InvalidChallenge, 401)
export const InvalidCodeError = errorBody(InvalidCode, 401)
export const TotpAlreadyEnabledError = errorBody(TotpAlreadyEnabled, 409)
export const TotpNotEnabledError = errorBody(TotpNotEnabled, 409)
// Passkeys (docs/passkeys.md): a refused response or a spent challenge is a failed authentication (401), at sign-in
// as at registration, like a wrong password at a re-check. (One status per error: HttpApi encodes an error with the
// first schema of its tag across the API.)
export const InvalidPasskeyError = errorBody(InvalidPasskey, 401)
export const InvalidPasskeyChallengeError = errorBody(InvalidPasskeyChallenge, 401)
export const InvalidPasskeyNameError = errorBody(InvalidPasskeyName, 422)
// Unknown or another user's: the same 404.
export const PasskeyNotFoundError = errorBody(PasskeyNotFound, 404)
// Change of email (docs/email-change.md): the current address as the new one is unacceptable content (422); the
// address taken by another account before the confirmation (or the revert) is a conflict (409).
export const EmailUnchangedError = errorBody(EmailUnchanged, 422)
export const EmailTakenError = errorBody(EmailTaken, 409)

/** `StoreError` as a 503, without its driver-level cause (which can quote SQL parameters). */
export const StoreErrorBody = HttpErrors.StoreErrorBody

/**
 * A state-changing request that a browser sent from another site (see `OriginCheck`).
 */
export class CrossOriginRequest extends Schema.TaggedError<CrossOriginRequest>()(
  "CrossOriginRequest",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

/**
 * A request body larger than the app accepts (see `BodyLimit`).
 */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  { message: Schema.String, maxBytes: Schema.Number },
  HttpApiSchema.annotations({ status: 413 })
) {}

/**
 * A request body sent without `Content-Length` (chunked): its size is unknown until it has all been read.
 */
export class LengthRequired extends Schema.TaggedError<LengthRequired>()(
  "LengthRequired",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 411 })
) {}

/**
 * A passkey endpoint on a server without passkeys: the app runs on an IP address (WebAuthn needs a host name) or
 * has no passkey config.
 */
export class PasskeysOff extends Schema.TaggedError<PasskeysOff>()(
  "PasskeysOff",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

// ---------------------------------------------------------------------------------------------------------------
// Middlewares
// ---------------------------------------------------------------------------------------------------------------

/**
 * The session cookie's check is `userharbor/http`'s `HttpSession.Authentication` middleware: it provides
 * `HttpSession.CurrentSession` (the user, the session and its token) to the endpoints that declare it.
 */
const { Authentication } = HttpSession

/**
 * Refuses a request body over the app's limit before any of it is read: by its `Content-Length`, and a body without
 * one (chunked) altogether, since its size is known only after buffering it.
 */
export class BodyLimit extends HttpApiMiddleware.Tag<BodyLimit>()("http-app/BodyLimit", {
  failure: Schema.Union(PayloadTooLarge, LengthRequired)
}) {}

/**
 * CSRF protection for cookie sessions: a state-changing request (any method but GET, HEAD, OPTIONS) must come from
 * the app's own origin, judged by `Origin` or, without it, `Sec-Fetch-Site`.
 */
export class OriginCheck extends HttpApiMiddleware.Tag<OriginCheck>()("http-app/OriginCheck", {
  failure: CrossOriginRequest
}) {}

// ---------------------------------------------------------------------------------------------------------------
// Payloads and responses
// ---------------------------------------------------------------------------------------------------------------

const Password = Schema.Redacted(Schema.String)

export const RegisterPayload = Schema.Struct({ username: Schema.String, email: Schema.String, password: Password })
export const TokenPayload = Schema.Struct({ token: Password })
export const EmailPayload = Schema.Struct({ email: Schema.String })
export const LoginPayload = Schema.Union(
  Schema.Struct({ email: Schema.String, password: Password }),
  Schema.Struct({ username: Schema.String, password: Password })
)
export const ChangePasswordPayload = Schema.Struct({ oldPassword: Password, newPassword: Password })
export const ResetPasswordPayload = Schema.Struct({ token: Password, newPassword: Password })
export const DeleteAccountPayload = Schema.Struct({ password: Password })

/**
 * What `GET /api/accounts/me` returns.
 */
export const Account = Schema.Struct({
  id: Schema.String,
  username: Schema.String,
  email: Schema.String,
  verified: Schema.Boolean,
  createdAt: Schema.Date,
  sessionExpiresAt: Schema.Date
})

/**
 * What signing in (or changing the password, which starts a new session) returns; the token itself is only in the
 * `Set-Cookie` header.
 */
export const SessionCreated = Schema.Struct({ expiresAt: Schema.Date })

/**
 * One entry of `GET /api/sessions`: `UserHarbor.listSessions`' summary, which holds no token or hash. `current`
 * marks the session that asked; `device` names the client it was signed in from and its network (`null` when
 * unknown), not the full address.
 */
export const SessionSummary = Schema.Struct({
  id: Schema.String,
  createdAt: Schema.Date,
  lastUsedAt: Schema.Date,
  expiresAt: Schema.Date,
  current: Schema.Boolean,
  device: Schema.Struct({ label: Schema.String, address: Schema.OptionFromNullOr(Schema.String) })
})

/**
 * What `DELETE /api/sessions/others` returns: how many sessions it ended.
 */
export const SessionsRevoked = Schema.Struct({ revoked: Schema.Number })

// Second factors and passkeys

export const PasswordPayload = Schema.Struct({ password: Password })
export const CodePayload = Schema.Struct({ code: Password })
/** Disabling TOTP re-checks the password, or takes a current code (from the app, or a recovery code). */
export const DisableTotpPayload = Schema.Union(PasswordPayload, CodePayload)
export const CompleteLoginPayload = Schema.Struct({ challenge: Password, code: Password })
export const PasskeyNamePayload = Schema.Struct({ name: Schema.String })
export const AddPasskeyPayload = Schema.Struct({ name: Schema.String, response: Passkey.RegistrationResponse })
export const PasskeySignInPayload = Schema.Struct({ response: Passkey.AuthenticationResponse })

/**
 * What `POST /api/accounts/me/totp` returns, once: the secret (base32, for typing in), the `otpauth://` URI and
 * the same URI as an SVG QR code. The enrolment is pending until confirmed with a code.
 */
export const TotpEnrollmentStarted = Schema.Struct({ secret: Schema.String, uri: Schema.String, qrSvg: Schema.String })

/** Ten single-use recovery codes, shown once (confirming an enrolment, or regenerating them). */
export const RecoveryCodesIssued = Schema.Struct({ recoveryCodes: Schema.Array(Schema.String) })

/** One of `GET /api/accounts/me/factors`' entries (`UserHarbor.listFactors`). */
export const FactorSummary = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("totp"), enabledAt: Schema.Date }),
  Schema.Struct({ kind: Schema.Literal("recovery-codes"), remaining: Schema.Number })
)

const CredentialDescriptor = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("public-key"),
  transports: Schema.optional(Schema.Array(Schema.String))
})

/** `navigator.credentials.create()`'s options as JSON (`Passkey.CreationOptions`). */
export const PasskeyCreationOptions = Schema.Struct({
  rp: Schema.Struct({ id: Schema.String, name: Schema.String }),
  user: Schema.Struct({ id: Schema.String, name: Schema.String, displayName: Schema.String }),
  challenge: Schema.String,
  pubKeyCredParams: Schema.Array(Schema.Struct({ type: Schema.Literal("public-key"), alg: Schema.Number })),
  timeout: Schema.Number,
  excludeCredentials: Schema.Array(CredentialDescriptor),
  authenticatorSelection: Schema.Struct({
    residentKey: Schema.Literal("required"),
    requireResidentKey: Schema.Literal(true),
    userVerification: Schema.Literal("required")
  }),
  attestation: Schema.Literal("none"),
  extensions: Schema.Struct({ credProps: Schema.Literal(true) })
})

/** `navigator.credentials.get()`'s options as JSON (`Passkey.RequestOptions`). */
export const PasskeyRequestOptions = Schema.Struct({
  challenge: Schema.String,
  rpId: Schema.String,
  timeout: Schema.Number,
  userVerification: Schema.Literal("required"),
  allowCredentials: Schema.Array(CredentialDescriptor)
})

/** One of the user's passkeys (`Passkey.PasskeySummary`); `id` is the credential id. */
export const PasskeySummary = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  transports: Schema.Array(Schema.String),
  synced: Schema.Boolean,
  backedUp: Schema.Boolean,
  createdAt: Schema.Date,
  lastUsedAt: Schema.UndefinedOr(Schema.Date)
})

// ---------------------------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------------------------

export class AccountsGroup extends HttpApiGroup.make("accounts")
  // Same answer whether the email is new or taken: only the address's owner learns of the attempt.
  .add(
    HttpApiEndpoint.post("register", "/accounts")
      .setPayload(RegisterPayload)
      .addSuccess(HttpApiSchema.Accepted)
      .addError(InvalidUsernameError)
      .addError(InvalidEmailError)
      .addError(WeakPasswordError)
      .addError(UsernameTakenError)
      .addError(TooManyAttemptsError)
      .addError(EmailDeliveryErrorBody)
  )
  .add(
    HttpApiEndpoint.post("verifyEmail", "/accounts/verify-email")
      .setPayload(TokenPayload)
      .addError(InvalidTokenError)
  )
  // Same answer for unknown, unverified and verified addresses (an invalid one is no account's: 422).
  .add(
    HttpApiEndpoint.post("resendVerification", "/accounts/verify-email/resend")
      .setPayload(EmailPayload)
      .addSuccess(HttpApiSchema.Accepted)
      .addError(EmailDeliveryErrorBody)
      .addError(InvalidEmailError)
  )
  .add(
    HttpApiEndpoint.get("me", "/accounts/me")
      .addSuccess(Account)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.post("changePassword", "/accounts/me/password")
      .setPayload(ChangePasswordPayload)
      .addSuccess(SessionCreated)
      .addError(InvalidSessionError)
      .addError(InvalidCredentialsError)
      .addError(TooManyAttemptsError)
      .addError(WeakPasswordError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.del("deleteAccount", "/accounts/me")
      .setPayload(DeleteAccountPayload)
      .addError(InvalidSessionError)
      .addError(InvalidCredentialsError)
      .addError(TooManyAttemptsError)
      .middleware(Authentication)
  )
  // Same answer for unknown and known addresses (an invalid one is no account's: 422).
  .add(
    HttpApiEndpoint.post("requestPasswordReset", "/accounts/password-reset")
      .setPayload(EmailPayload)
      .addSuccess(HttpApiSchema.Accepted)
      .addError(EmailDeliveryErrorBody)
      .addError(InvalidEmailError)
  )
  .add(
    HttpApiEndpoint.post("resetPassword", "/accounts/password-reset/confirm")
      .setPayload(ResetPasswordPayload)
      .addError(InvalidTokenError)
      .addError(WeakPasswordError)
  )
  .addError(StoreErrorBody)
  .addError(BusyError)
{}

export class SessionsGroup extends HttpApiGroup.make("sessions")
  .add(
    HttpApiEndpoint.post("login", "/sessions")
      .setPayload(LoginPayload)
      .addSuccess(SessionCreated)
      .addError(InvalidCredentialsError)
      .addError(EmailNotVerifiedError)
      .addError(AccountLockedError)
      .addError(SecondFactorRequiredError)
      .addError(TooManyAttemptsError)
  )
  .add(
    HttpApiEndpoint.del("logout", "/sessions/current")
      .addError(InvalidSessionError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.del("logoutEverywhere", "/sessions")
      .addError(InvalidSessionError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.get("listSessions", "/sessions")
      .addSuccess(Schema.Array(SessionSummary))
      .addError(InvalidSessionError)
      .middleware(Authentication)
  )
  // Static paths win over `:id` in the router, so `current` and `others` never reach `revokeSession`.
  .add(
    HttpApiEndpoint.del("revokeOtherSessions", "/sessions/others")
      .addSuccess(SessionsRevoked)
      .addError(InvalidSessionError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.del("revokeSession", "/sessions/:id")
      .setPath(Schema.Struct({ id: Schema.String }))
      .addError(InvalidSessionError)
      .addError(SessionNotFoundError)
      .middleware(Authentication)
  )
  .addError(StoreErrorBody)
  .addError(BusyError)
{}

/**
 * TOTP for the signed-in user, and the second step of a password login (docs/second-factors.md).
 */
export class FactorsGroup extends HttpApiGroup.make("factors")
  .add(
    HttpApiEndpoint.get("listFactors", "/accounts/me/factors")
      .addSuccess(Schema.Array(FactorSummary))
      .addError(InvalidSessionError)
      .middleware(Authentication)
  )
  // The password is re-checked: a stolen session must not put its own authenticator on the account.
  .add(
    HttpApiEndpoint.post("beginTotp", "/accounts/me/totp")
      .setPayload(PasswordPayload)
      .addSuccess(TotpEnrollmentStarted)
      .addError(InvalidSessionError)
      .addError(InvalidCredentialsError)
      .addError(TooManyAttemptsError)
      .addError(TotpAlreadyEnabledError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.post("confirmTotp", "/accounts/me/totp/confirm")
      .setPayload(CodePayload)
      .addSuccess(RecoveryCodesIssued)
      .addError(InvalidSessionError)
      .addError(TotpNotEnabledError)
      .addError(InvalidCodeError)
      .addError(TooManyAttemptsError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.del("disableTotp", "/accounts/me/totp")
      .setPayload(DisableTotpPayload)
      .addError(InvalidSessionError)
      .addError(TotpNotEnabledError)
      .addError(InvalidCredentialsError)
      .addError(InvalidCodeError)
      .addError(TooManyAttemptsError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.post("regenerateRecoveryCodes", "/accounts/me/recovery-codes")
      .setPayload(PasswordPayload)
      .addSuccess(RecoveryCodesIssued)
      .addError(InvalidSessionError)
      .addError(TotpNotEnabledError)
      .addError(InvalidCredentialsError)
      .addError(TooManyAttemptsError)
      .middleware(Authentication)
  )
  // The second step of a login answered with `SecondFactorRequired`: its challenge and a code.
  .add(
    HttpApiEndpoint.post("completeLogin", "/sessions/second-factor")
      .setPayload(CompleteLoginPayload)
      .addSuccess(SessionCreated)
      .addError(InvalidChallengeError)
      .addError(InvalidCodeError)
      .addError(AccountLockedError)
      .addError(TooManyAttemptsError)
  )
  .addError(StoreErrorBody)
  .addError(BusyError)
{}

/**
 * Passkeys: registration and management for the signed-in user, and usernameless sign-in (docs/passkeys.md). Each
 * ceremony is a POST for the options (it stores a single-use challenge) and a POST with the browser's response.
 */
export class PasskeysGroup extends HttpApiGroup.make("passkeys")
  .add(
    HttpApiEndpoint.post("registrationOptions", "/accounts/me/passkeys/options")
      .addSuccess(PasskeyCreationOptions)
      .addError(InvalidSessionError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.post("addPasskey", "/accounts/me/passkeys")
      .setPayload(AddPasskeyPayload)
      .addSuccess(PasskeySummary, { status: 201 })
      .addError(InvalidSessionError)
      .addError(InvalidPasskeyNameError)
      .addError(InvalidPasskeyError)
      .addError(InvalidPasskeyChallengeError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.get("listPasskeys", "/accounts/me/passkeys")
      .addSuccess(Schema.Array(PasskeySummary))
      .addError(InvalidSessionError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.patch("renamePasskey", "/accounts/me/passkeys/:id")
      .setPath(Schema.Struct({ id: Schema.String }))
      .setPayload(PasskeyNamePayload)
      .addError(InvalidSessionError)
      .addError(InvalidPasskeyNameError)
      .addError(PasskeyNotFoundError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.del("removePasskey", "/accounts/me/passkeys/:id")
      .setPath(Schema.Struct({ id: Schema.String }))
      .addError(InvalidSessionError)
      .addError(PasskeyNotFoundError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.post("signInOptions", "/sessions/passkey/options")
      .addSuccess(PasskeyRequestOptions)
  )
  .add(
    HttpApiEndpoint.post("signIn", "/sessions/passkey")
      .setPayload(PasskeySignInPayload)
      .addSuccess(SessionCreated)
      .addError(InvalidPasskeyError)
      .addError(InvalidPasskeyChallengeError)
      .addError(EmailNotVerifiedError)
      .addError(AccountLockedError)
  )
  .addError(PasskeysOff)
  .addError(StoreErrorBody)
  .addError(BusyError)
{}

export const ChangeEmailPayload = Schema.Struct({ newEmail: Schema.String, password: Password })

/** What `GET /api/accounts/me/email-change` returns: the change waiting for its confirmation, or `null`. */
export const PendingEmailChange = Schema.NullOr(Schema.Struct({ newEmail: Schema.String, expiresAt: Schema.Date }))

/**
 * Change of email address (docs/email-change.md): the request by the signed-in user (password re-checked), and
 * the confirmation and revert links' tokens, which need no session (the link may be opened on another device).
 */
export class EmailChangeGroup extends HttpApiGroup.make("emailChange")
  // Same answer whether the new address is free or taken: only its owner learns of the attempt.
  .add(
    HttpApiEndpoint.post("requestEmailChange", "/accounts/me/email-change")
      .setPayload(ChangeEmailPayload)
      .addSuccess(HttpApiSchema.Accepted)
      .addError(InvalidSessionError)
      .addError(InvalidEmailError)
      .addError(EmailUnchangedError)
      .addError(InvalidCredentialsError)
      .addError(TooManyAttemptsError)
      .addError(EmailDeliveryErrorBody)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.get("pendingEmailChange", "/accounts/me/email-change")
      .addSuccess(PendingEmailChange)
      .addError(InvalidSessionError)
      .middleware(Authentication)
  )
  .add(
    HttpApiEndpoint.post("confirmEmailChange", "/accounts/email-change/confirm")
      .setPayload(TokenPayload)
      .addError(InvalidTokenError)
      .addError(EmailTakenError)
  )
  .add(
    HttpApiEndpoint.post("revertEmailChange", "/accounts/email-change/revert")
      .setPayload(TokenPayload)
      .addError(InvalidTokenError)
      .addError(EmailTakenError)
  )
  .addError(StoreErrorBody)
  .addError(BusyError)
{}

/** One line of the account page's "Recent security activity": what happened, when, and from which client. */
export const ActivityEntry = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  at: Schema.Date,
  description: Schema.String,
  clientKey: Schema.UndefinedOr(Schema.String)
})

/**
 * The signed-in user's security events, newest first (docs/security-events.md).
 */
export class ActivityGroup extends HttpApiGroup.make("activity")
  .add(
    HttpApiEndpoint.get("recentActivity", "/accounts/me/activity")
      .addSuccess(Schema.Array(ActivityEntry))
      .addError(InvalidSessionError)
      .middleware(Authentication)
  )
  .addError(StoreErrorBody)
{}

export class Api extends HttpApi.make("userharbor")
  .add(AccountsGroup)
  .add(SessionsGroup)
  .add(FactorsGroup)
  .add(PasskeysGroup)
  .add(EmailChangeGroup)
  .add(ActivityGroup)
  .prefix("/api")
  .middleware(OriginCheck)
  // Added last, so it runs first: nothing else looks at a request that is too large.
  .middleware(BodyLimit)
{}
