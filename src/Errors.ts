/**
 * Every error UserHarbor can fail with. Domain outcomes are named as facts (`InvalidToken`); infrastructure
 * failures end in `Error` (`StoreError`, `EmailDeliveryError`) and may be retried.
 *
 * No error carries a secret: passwords, raw tokens, token hashes and the secret key never reach a field, so an
 * error can be logged, serialised or sent to a client as it is.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/**
 * Why a username was refused.
 *
 * @since 0.1.0
 * @category models
 */
export const UsernameProblem = Schema.Literal(
  "too-short",
  "too-long",
  "invalid-characters",
  /** Letters of scripts that UTS #39's Highly Restrictive level does not let one name mix (Latin and Cyrillic). */
  "mixed-scripts"
)

/**
 * @since 0.1.0
 * @category errors
 */
export class InvalidUsername extends Schema.TaggedError<InvalidUsername>()("InvalidUsername", {
  reason: UsernameProblem
}) {
  override get message(): string {
    return `Invalid username: ${this.reason}`
  }
}

/**
 * Why an email address was refused.
 *
 * @since 0.1.0
 * @category models
 */
export const EmailProblem = Schema.Literal("empty", "too-long", "local-part-too-long", "invalid-format")

/**
 * @since 0.1.0
 * @category errors
 */
export class InvalidEmail extends Schema.TaggedError<InvalidEmail>()("InvalidEmail", {
  reason: EmailProblem
}) {
  override get message(): string {
    return `Invalid email address: ${this.reason}`
  }
}

/**
 * One reason a password breaks the policy.
 *
 * @since 0.1.0
 * @category models
 */
export const PasswordProblem = Schema.Literal(
  "too-short",
  "too-long",
  "malformed",
  /** Fewer than 5 different visible characters, after NFKC and case folding (`aaaaaaaa`, 8 zero-width spaces). */
  "too-few-distinct",
  /** One shorter string repeated (`abcdeabcde`). */
  "repetitive",
  /** A run of consecutive characters, up or down (`abcdefgh`, `98765432`). */
  "sequential",
  "common",
  "same-as-username",
  /** Holds the username (3 or more characters) somewhere inside. */
  "contains-username",
  "same-as-email",
  /** Holds the email address's local part (3 or more characters) somewhere inside. */
  "contains-email",
  /** Holds one of the policy's `appNames`. */
  "contains-app-name",
  "missing-lowercase",
  "missing-uppercase",
  "missing-digit",
  "missing-symbol"
)

/**
 * @since 0.1.0
 * @category models
 */
export type PasswordProblem = typeof PasswordProblem.Type

/**
 * @since 0.1.0
 * @category errors
 */
export class WeakPassword extends Schema.TaggedError<WeakPassword>()("WeakPassword", {
  reasons: Schema.NonEmptyArray(PasswordProblem)
}) {
  override get message(): string {
    return `Password does not meet the policy: ${this.reasons.join(", ")}`
  }
}

/**
 * The username, or a look-alike of it, is already in use (compared on `Username.canonical`: case-insensitively and
 * by confusable skeleton).
 *
 * @since 0.1.0
 * @category errors
 */
export class UsernameTaken extends Schema.TaggedError<UsernameTaken>()("UsernameTaken", {}) {
  override get message(): string {
    return "Username is already taken"
  }
}

/**
 * Raised by a `UserStore` when the email is already in use. `register` never lets it reach a caller: it would tell
 * an attacker that the address has an account.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmailTaken extends Schema.TaggedError<EmailTaken>()("EmailTaken", {}) {
  override get message(): string {
    return "Email is already taken"
  }
}

/**
 * The kinds of single-use token.
 *
 * @since 0.1.0
 * @category models
 */
export const TokenPurpose = Schema.Literal("verify-email", "reset-password")

/**
 * @since 0.1.0
 * @category models
 */
export type TokenPurpose = typeof TokenPurpose.Type

/**
 * @since 0.1.0
 * @category errors
 */
export class InvalidToken extends Schema.TaggedError<InvalidToken>()("InvalidToken", {
  purpose: TokenPurpose,
  reason: Schema.Literal("unknown", "expired")
}) {
  override get message(): string {
    return `Invalid ${this.purpose} token: ${this.reason}`
  }
}

/**
 * Unknown account or wrong password: one error for both, so a caller cannot tell which.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>()("InvalidCredentials", {}) {
  override get message(): string {
    return "Invalid credentials"
  }
}

/**
 * The password was right but the address is not verified yet.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmailNotVerified extends Schema.TaggedError<EmailNotVerified>()("EmailNotVerified", {}) {
  override get message(): string {
    return "Email address is not verified"
  }
}

/**
 * @since 0.1.0
 * @category errors
 */
export class InvalidSession extends Schema.TaggedError<InvalidSession>()("InvalidSession", {
  reason: Schema.Literal("unknown", "expired")
}) {
  override get message(): string {
    return `Invalid session: ${this.reason}`
  }
}

/**
 * What went wrong while delivering an email.
 *
 * @since 0.1.0
 * @category models
 */
export const DeliveryProblem = Schema.Literal("connect", "tls", "auth", "rejected", "timeout", "unknown")

/**
 * A message could not be delivered. `detail` is a short, secret-free description written by the sender; the
 * message body, the token and the credentials are never part of it.
 *
 * @since 0.1.0
 * @category errors
 */
export class EmailDeliveryError extends Schema.TaggedError<EmailDeliveryError>()("EmailDeliveryError", {
  reason: DeliveryProblem,
  detail: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return this.detail === undefined
      ? `Email delivery failed: ${this.reason}`
      : `Email delivery failed: ${this.reason}: ${this.detail}`
  }
}

/**
 * The store failed (connection lost, timeout, constraint the library did not expect). `operation` names the
 * store method (`"connect"` while a layer starts). `reason`, when present, says in one secret-free line what went
 * wrong and what to change (`directory ".data" does not exist; create it or set USERHARBOR_SQLITE_FILENAME to a
 * path in an existing directory`); it is built from the driver's error code, never copied from its message.
 *
 * The driver's error itself is kept out of every field, so no renderer can print it: not the message, `String`,
 * `JSON.stringify`, `util.inspect`, nor Effect's `Cause.pretty`, loggers, span attributes or `FiberFailure`s,
 * all of which print an error's `cause` chain. Driver errors can quote SQL parameters (an email address in
 * MySQL's `Duplicate entry '…'`), hosts, users or a connection string with its password. For deliberate
 * debugging, `unsafeDriverError()` returns it.
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  operation: Schema.String,
  reason: Schema.optional(Schema.String)
}) {
  /**
   * The error the driver raised (usually an `SqlError` whose `cause` is the driver's own error), or `undefined`.
   * It may hold SQL parameters, hosts, user names or passwords: read it to debug, never log or return it.
   *
   * @since 0.2.0
   */
  declare readonly unsafeDriverError: () => unknown

  constructor(
    props: { readonly operation: string; readonly reason?: string | undefined; readonly cause?: unknown },
    options?: Schema.MakeOptions
  ) {
    super(
      props.reason === undefined ? { operation: props.operation } : {
        operation: props.operation,
        reason: props.reason
      },
      options
    )
    // Held by a closure in a non-enumerable function: no renderer prints a function's captured values, and no
    // `cause` property exists for Effect's renderers (which print the `cause` chain) to find. A private field
    // would not do: Effect hands the error around wrapped in a Proxy (to attach the span), which has no
    // private fields. It does not survive encoding, by design.
    const driverError = props.cause
    Object.defineProperty(this, "unsafeDriverError", { value: () => driverError, enumerable: false })
  }

  override get message(): string {
    return this.reason === undefined
      ? `User store failed during ${this.operation}`
      : `User store failed during ${this.operation}: ${this.reason}`
  }
}

/**
 * `revokeSession` was given an id that is not one of the caller's sessions. Another user's session id gives the
 * same answer as an id that never existed, so the error reveals nothing about other users.
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()("SessionNotFound", {}) {
  override get message(): string {
    return "Session not found"
  }
}

/**
 * Password login is throttled after repeated failures. `retryAfter` is how long until the next attempt is
 * allowed, or `Duration.infinity` when password login stays disabled until a password reset. It never says
 * whether the account or the caller's client key is throttled, nor whether the account exists: unknown names are
 * throttled exactly like real ones. An HTTP layer can answer 429 with `Retry-After`.
 *
 * @since 0.1.0
 * @category errors
 */
export class TooManyAttempts extends Schema.TaggedError<TooManyAttempts>()("TooManyAttempts", {
  retryAfter: Schema.Duration
}) {
  override get message(): string {
    return Duration.isFinite(this.retryAfter)
      ? `Too many attempts; retry after ${Math.ceil(Duration.toSeconds(this.retryAfter))} seconds`
      : "Too many attempts; password login is disabled until a password reset"
  }
}

/**
 * Too many password hashes are running and waiting already: the call was refused at once instead of queueing
 * more memory-hungry work. Retryable (an HTTP layer can answer 503).
 *
 * @since 0.1.0
 * @category errors
 */
export class Busy extends Schema.TaggedError<Busy>()("Busy", {}) {
  override get message(): string {
    return "Password hashing is at capacity; retry later"
  }
}

/**
 * Why a passkey response was refused: it could not be read (`malformed`), came from an origin or for a relying
 * party the config does not name (`origin`, `rp-id`), lacked user verification (`user-verification`), names a
 * credential this app does not hold for the user (`unknown-credential`), carries a signature counter that did not
 * grow (`counter`: a cloned authenticator or a replay), failed verification (`invalid`: a bad signature or
 * attestation), or registers a credential already registered (`already-registered`).
 *
 * @since 0.3.0
 * @category models
 */
export const PasskeyProblem = Schema.Literal(
  "malformed",
  "origin",
  "rp-id",
  "user-verification",
  "unknown-credential",
  "counter",
  "invalid",
  "already-registered"
)

/**
 * @since 0.3.0
 * @category models
 */
export type PasskeyProblem = typeof PasskeyProblem.Type

/**
 * A passkey registration or assertion was refused. It never carries the response, the challenge or a key.
 *
 * @since 0.3.0
 * @category errors
 */
export class InvalidPasskey extends Schema.TaggedError<InvalidPasskey>()("InvalidPasskey", {
  reason: PasskeyProblem
}) {
  override get message(): string {
    return `Invalid passkey response: ${this.reason}`
  }
}

/**
 * The challenge a passkey response signs is not one this app handed out for this ceremony (and this user), was
 * used already (challenges are single-use, whatever the outcome), or expired (`passkeys.challengeTtl`).
 *
 * @since 0.3.0
 * @category errors
 */
export class InvalidPasskeyChallenge extends Schema.TaggedError<InvalidPasskeyChallenge>()(
  "InvalidPasskeyChallenge",
  { reason: Schema.Literal("unknown", "expired") }
) {
  override get message(): string {
    return `Invalid passkey challenge: ${this.reason}`
  }
}

/**
 * `renamePasskey` or `removePasskey` was given an id that is not one of the caller's passkeys (another user's
 * answers the same).
 *
 * @since 0.3.0
 * @category errors
 */
export class PasskeyNotFound extends Schema.TaggedError<PasskeyNotFound>()("PasskeyNotFound", {}) {
  override get message(): string {
    return "Passkey not found"
  }
}

/**
 * A passkey's name must be 1 to 64 characters after trimming.
 *
 * @since 0.3.0
 * @category errors
 */
export class InvalidPasskeyName extends Schema.TaggedError<InvalidPasskeyName>()("InvalidPasskeyName", {}) {
  override get message(): string {
    return "A passkey name must be 1 to 64 characters"
  }
}

/**
 * `login` checked the password, and the account has a second factor: no session yet. `challenge` is a short-lived,
 * single-use secret to hand back, with a code, to `completeLogin`; it is not a session and opens nothing on its
 * own. It is `Redacted`, so logging the error prints `<redacted>`; encoding the error with its schema (an HttpApi
 * error response) sends it, which is what the client needs. `expiresAt` is when it stops being accepted.
 *
 * @since 0.3.0
 * @category errors
 */
export class SecondFactorRequired extends Schema.TaggedError<SecondFactorRequired>()("SecondFactorRequired", {
  challenge: Schema.Redacted(Schema.String),
  expiresAt: Schema.DateFromNumber
}) {
  override get message(): string {
    return "A second factor is required to complete the login"
  }
}

/**
 * `completeLogin` was given a challenge it cannot use: `"unknown"` (never issued, used already, or voided by a
 * password change or the account's deletion) or `"expired"`. Log in again with the password.
 *
 * @since 0.3.0
 * @category errors
 */
export class InvalidChallenge extends Schema.TaggedError<InvalidChallenge>()("InvalidChallenge", {
  reason: Schema.Literal("unknown", "expired")
}) {
  override get message(): string {
    return `Invalid login challenge: ${this.reason}`
  }
}

/**
 * A one-time code was wrong: not the authenticator's current code (one step of drift either way), a code accepted
 * once already, or no unused recovery code of the account. Each counts as a failure on the account's throttle.
 *
 * @since 0.3.0
 * @category errors
 */
export class InvalidCode extends Schema.TaggedError<InvalidCode>()("InvalidCode", {}) {
  override get message(): string {
    return "Invalid code"
  }
}

/**
 * TOTP is active on the account already: disable it before enrolling another authenticator.
 *
 * @since 0.3.0
 * @category errors
 */
export class TotpAlreadyEnabled extends Schema.TaggedError<TotpAlreadyEnabled>()("TotpAlreadyEnabled", {}) {
  override get message(): string {
    return "TOTP is enabled already"
  }
}

/**
 * The operation needs TOTP in a state the account's is not in: `"none"` (no authenticator enrolled: disabling it
 * or regenerating recovery codes) or `"not-pending"` (confirming an enrolment that was never begun, or was
 * confirmed already).
 *
 * @since 0.3.0
 * @category errors
 */
export class TotpNotEnabled extends Schema.TaggedError<TotpNotEnabled>()("TotpNotEnabled", {
  reason: Schema.Literal("none", "not-pending")
}) {
  override get message(): string {
    return this.reason === "none" ? "TOTP is not enabled" : "No TOTP enrolment is waiting for confirmation"
  }
}

/**
 * The password was right but the account is locked by an administrator (`UserHarborAdmin.lock`). Like
 * `EmailNotVerified`, it is given only after the right password (a wrong one is `InvalidCredentials`), so it tells
 * nothing to someone guessing; it carries neither the reason nor who locked the account.
 *
 * @since 0.3.0
 * @category errors
 */
export class AccountLocked extends Schema.TaggedError<AccountLocked>()("AccountLocked", {}) {
  override get message(): string {
    return "Account is locked"
  }
}

/**
 * An administrative operation was given a user id, username or address that no account has.
 *
 * @since 0.3.0
 * @category errors
 */
export class UserNotFound extends Schema.TaggedError<UserNotFound>()("UserNotFound", {}) {
  override get message(): string {
    return "User not found"
  }
}

/**
 * An administrative operation's input was refused: `actorId` (empty after trimming, or over 200 characters),
 * `reason` (a lock reason empty after trimming, or over 500 characters), `cursor` (not one `listUsers` returned),
 * `limit` (not an integer from 1 to 1000), or `createdBefore` / `createdAfter` (an invalid `Date`).
 *
 * @since 0.3.0
 * @category errors
 */
export class InvalidAdminInput extends Schema.TaggedError<InvalidAdminInput>()("InvalidAdminInput", {
  field: Schema.Literal("actorId", "reason", "cursor", "limit", "createdBefore", "createdAfter")
}) {
  override get message(): string {
    return `Invalid administrative input: ${this.field}`
  }
}
