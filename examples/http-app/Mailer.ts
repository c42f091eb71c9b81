/**
 * A small `EmailSender` that renders each message to text with links into the app, and hands it to a `deliver`
 * function: the console in development, a list in tests.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { EmailSender, type EmailMessage } from "../../src/EmailSender.js"
import { AppSettings } from "./AppSettings.js"

export interface RenderedEmail {
  readonly to: string
  readonly subject: string
  readonly text: string
}

// The token goes in the fragment (`#token=`), which browsers never send to a server, so it stays out of access
// logs and `Referer` headers; the page reads it with script and POSTs it.
const link = (origin: string, page: string, token: Redacted.Redacted<string>) =>
  `${origin}/${page}#token=${encodeURIComponent(Redacted.value(token))}`

export const render = (message: EmailMessage, origin: string): RenderedEmail => {
  const hello = `Hello ${message.to.username},\n\n`
  switch (message._tag) {
    case "VerificationEmail":
      return {
        to: message.to.email,
        subject: "Confirm your email address",
        text: `${hello}Open this link to confirm your address:\n${link(origin, "verify", message.token)}\n\n` +
          `It expires at ${message.expiresAt.toISOString()}.`
      }
    case "PasswordResetEmail":
      return {
        to: message.to.email,
        subject: "Reset your password",
        text: `${hello}Open this link to choose a new password:\n${link(origin, "reset", message.token)}\n\n` +
          `It expires at ${message.expiresAt.toISOString()}. If you did not ask for it, ignore this email.`
      }
    case "RegistrationAttemptEmail":
      return {
        to: message.to.email,
        subject: "Someone tried to sign up with your address",
        text: `${hello}Someone tried to create an account with this address, which already has one. ` +
          `If it was you, sign in or reset your password at ${origin}/forgot-password.`
      }
    case "PasswordChangedEmail":
      return {
        to: message.to.email,
        subject: "Your password was changed",
        text: `${hello}Your password was changed and every session was signed out. If this was not you, ` +
          `reset it at ${origin}/forgot-password.`
      }
    case "AccountDeletedEmail":
      return { to: message.to.email, subject: "Your account was deleted", text: `${hello}Your account was deleted.` }
  }
}

export const layer = (deliver: (email: RenderedEmail) => Effect.Effect<void>) =>
  Layer.effect(
    EmailSender,
    Effect.map(AppSettings, (settings) =>
      EmailSender.of({
        send: (message) => deliver(render(message, settings.origin))
      }))
  )

/**
 * Prints every email; for local development only, since it writes the links (and so the tokens) to stdout.
 */
export const layerConsole = layer((email) => Console.log(`--- email to ${email.to}: ${email.subject}\n${email.text}\n---`))
