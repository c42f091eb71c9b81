/**
 * The email port. UserHarbor decides what to send and when; a sender only delivers. The two token messages carry
 * the raw token as `Redacted`, so it stays hidden until the sender writes it into the body.
 *
 * Messages are a `Schema` union, so they can be queued, recorded or serialised by any sender.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { EmailDeliveryError } from "./Errors.js"

/**
 * Who a message is for.
 *
 * @since 0.1.0
 * @category models
 */
export const Recipient = Schema.Struct({
  username: Schema.String,
  email: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type Recipient = typeof Recipient.Type

/**
 * Asks the owner to confirm the address (sent by `register` and `resendVerification`).
 *
 * @since 0.1.0
 * @category models
 */
export class VerificationEmail extends Schema.TaggedClass<VerificationEmail>()("VerificationEmail", {
  to: Recipient,
  token: Schema.Redacted(Schema.String),
  expiresAt: Schema.DateFromNumber
}) {}

/**
 * Carries a password reset token (sent by `sendPasswordReset`).
 *
 * @since 0.1.0
 * @category models
 */
export class PasswordResetEmail extends Schema.TaggedClass<PasswordResetEmail>()("PasswordResetEmail", {
  to: Recipient,
  token: Schema.Redacted(Schema.String),
  expiresAt: Schema.DateFromNumber
}) {}

/**
 * Tells the owner of an address that someone tried to register with it (the caller of `register` gets the same
 * answer as for a new address, so only the owner learns of it).
 *
 * @since 0.1.0
 * @category models
 */
export class RegistrationAttemptEmail extends Schema.TaggedClass<RegistrationAttemptEmail>()(
  "RegistrationAttemptEmail",
  { to: Recipient }
) {}

/**
 * @since 0.1.0
 * @category models
 */
export class PasswordChangedEmail extends Schema.TaggedClass<PasswordChangedEmail>()("PasswordChangedEmail", {
  to: Recipient
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export class AccountDeletedEmail extends Schema.TaggedClass<AccountDeletedEmail>()("AccountDeletedEmail", {
  to: Recipient
}) {}

/**
 * Asks the owner of a new address to confirm that an account moves to it (sent by `requestEmailChange`, to the new
 * address).
 *
 * @since 0.3.0
 * @category models
 */
export class EmailChangeConfirmationEmail extends Schema.TaggedClass<EmailChangeConfirmationEmail>()(
  "EmailChangeConfirmationEmail",
  {
    to: Recipient,
    token: Schema.Redacted(Schema.String),
    expiresAt: Schema.DateFromNumber
  }
) {}

/**
 * Tells the owner of an address that another account asked to move to it (`requestEmailChange` answers as for a
 * free address, so only the owner learns of it).
 *
 * @since 0.3.0
 * @category models
 */
export class EmailChangeAttemptEmail extends Schema.TaggedClass<EmailChangeAttemptEmail>()(
  "EmailChangeAttemptEmail",
  { to: Recipient }
) {}

/**
 * Tells the old address that the account moved to `newEmail`, with the token that undoes the change (sent by
 * `confirmEmailChange`; `revertEmailChange` takes the token).
 *
 * @since 0.3.0
 * @category models
 */
export class EmailChangedEmail extends Schema.TaggedClass<EmailChangedEmail>()("EmailChangedEmail", {
  to: Recipient,
  newEmail: Schema.String,
  token: Schema.Redacted(Schema.String),
  expiresAt: Schema.DateFromNumber
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export const EmailMessage = Schema.Union(
  VerificationEmail,
  PasswordResetEmail,
  RegistrationAttemptEmail,
  PasswordChangedEmail,
  AccountDeletedEmail,
  EmailChangeConfirmationEmail,
  EmailChangeAttemptEmail,
  EmailChangedEmail
)

/**
 * @since 0.1.0
 * @category models
 */
export type EmailMessage = typeof EmailMessage.Type

/**
 * The shape of the `EmailSender` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface EmailSenderService {
  readonly send: (message: EmailMessage) => Effect.Effect<void, EmailDeliveryError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class EmailSender extends Context.Tag("userharbor/EmailSender")<EmailSender, EmailSenderService>() {}
