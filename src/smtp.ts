/**
 * SMTP delivery on `nodemailer`, an optional peer dependency: install it to use this entry point.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as SmtpEmailSender from "./SmtpEmailSender.js"
