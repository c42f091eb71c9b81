/**
 * Email for the app: the library's templates with links into the app's pages, sent by the console sender in
 * development or by SMTP (`EMAIL=smtp` with the `USERHARBOR_SMTP_*` variables).
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ConsoleEmailSender from "../../src/ConsoleEmailSender.js"
import type * as EmailTemplates from "../../src/EmailTemplates.js"
import * as SmtpEmailSender from "../../src/SmtpEmailSender.js"
import { AppSettings } from "./AppSettings.js"

/**
 * The token goes in the fragment (`#token=`), which browsers never send to a server, so it stays out of access
 * logs and `Referer` headers; the page reads it with script and POSTs it.
 */
export const templates = (origin: string): EmailTemplates.Options => ({
  appName: "UserHarbor example",
  verificationUrl: (token) => `${origin}/verify#token=${encodeURIComponent(token)}`,
  resetUrl: (token) => `${origin}/reset#token=${encodeURIComponent(token)}`,
  emailChangeUrl: (token) => `${origin}/confirm-email#token=${encodeURIComponent(token)}`,
  revertEmailChangeUrl: (token) => `${origin}/revert-email#token=${encodeURIComponent(token)}`
})

/**
 * Prints every email; development only, since it writes the links (and so the tokens) to stdout.
 */
export const layerConsole = Layer.unwrapEffect(
  Effect.map(AppSettings, (settings) => ConsoleEmailSender.layer(templates(settings.origin)))
)

/**
 * Delivers through the SMTP server the `USERHARBOR_SMTP_*` variables name.
 */
export const layerSmtp = Layer.unwrapEffect(
  Effect.map(AppSettings, (settings) =>
    SmtpEmailSender.layerConfig(
      Config.map(SmtpEmailSender.fromEnv, (options) => ({ ...options, templates: templates(settings.origin) }))
    ))
)
