/**
 * An `EmailSender` for development: it prints each message (recipient, subject and plain-text body) through
 * Effect's `Console` instead of delivering it, so a developer can follow the links while trying an app locally.
 *
 * It prints the tokens, which are secrets: never use it in production. It imports only `effect`.
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import * as Layer from "effect/Layer"
import { type EmailMessage, EmailSender, type EmailSenderService } from "./EmailSender.js"
import * as EmailTemplates from "./EmailTemplates.js"

const rule = "-".repeat(72)

/**
 * The printed form of a message.
 *
 * @since 0.1.0
 * @category utils
 */
export const format = (message: EmailMessage, templates: EmailTemplates.EmailTemplates): string => {
  const rendered = templates.render(message)
  const to = `${EmailTemplates.singleLine(message.to.username)} <${EmailTemplates.singleLine(message.to.email)}>`
  return [rule, `To: ${to}`, `Subject: ${rendered.subject}`, "", rendered.text.trimEnd(), rule].join("\n")
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: EmailTemplates.Options = {}): EmailSenderService => {
  const templates = EmailTemplates.make(options)
  return EmailSender.of({ send: (message) => Console.log(format(message, templates)) })
}

/**
 * Prints every message instead of sending it. Development only: the output holds the tokens.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: EmailTemplates.Options = {}): Layer.Layer<EmailSender> =>
  Layer.succeed(EmailSender, make(options))
