/**
 * What each message says: a subject, a plain-text body and an HTML body for every kind of `EmailMessage`. The
 * defaults are plain and short; an app replaces any of them with its own typed function (no template engine).
 *
 * Safety lives in `render`, not in the templates, so a replaced template keeps it: the username, address and app
 * name reach a template cut to one line, and so does the subject it returns (a CR or LF in a header would let a
 * value add headers). The defaults HTML-escape every value that comes from a user or the app (username, address,
 * link). Apps writing HTML templates use `escapeHtml` the same way.
 *
 * Links: `verificationUrl`, `resetUrl`, `emailChangeUrl` and `revertEmailChangeUrl` turn a token into the link the reader opens. Put the token in the URL's
 * fragment (`https://app.example/verify#<token>`) or path, never in its query string: query strings end up in
 * server and proxy logs (ASVS V14.2.1), fragments are never sent to a server. Without a link builder the message
 * shows the token itself, for the reader to paste.
 *
 * This module imports only `effect`, so every sender (console, SMTP, an HTTP email API) can share it.
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"
import type { EmailMessage, Recipient } from "./EmailSender.js"

/**
 * A message ready to deliver.
 *
 * @since 0.1.0
 * @category models
 */
export interface RenderedEmail {
  /** One line: `render` replaces CR, LF and other control characters with spaces. */
  readonly subject: string
  readonly text: string
  readonly html: string
}

/**
 * What a notice template (no token) gets.
 *
 * @since 0.1.0
 * @category models
 */
export interface NoticeInput {
  readonly appName: string
  readonly to: Recipient
}

/**
 * What the reader acts on: the app's link for the token, or the raw token when the app gave no link builder.
 *
 * @since 0.1.0
 * @category models
 */
export type Action =
  | { readonly _tag: "Link"; readonly url: string }
  | { readonly _tag: "Code"; readonly token: string }

/**
 * What a token template (verification, password reset) gets. The token is already inside `action`; a template
 * should show `action` exactly once.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenInput extends NoticeInput {
  readonly action: Action
  readonly expiresAt: Date
}

/**
 * One typed function per message kind.
 *
 * @since 0.1.0
 * @category models
 */
export interface Templates {
  readonly verification: (input: TokenInput) => RenderedEmail
  readonly passwordReset: (input: TokenInput) => RenderedEmail
  readonly registrationAttempt: (input: NoticeInput) => RenderedEmail
  readonly passwordChanged: (input: NoticeInput) => RenderedEmail
  readonly accountDeleted: (input: NoticeInput) => RenderedEmail
  /** To the new address: confirm the change (`to.email` is the new address). */
  readonly emailChangeConfirmation: (input: TokenInput) => RenderedEmail
  /** To the owner of an address another account asked to move to. */
  readonly emailChangeAttempt: (input: NoticeInput) => RenderedEmail
  /** To the old address: the account moved to `newEmail`; `action` undoes it. */
  readonly emailChanged: (input: EmailChangedInput) => RenderedEmail
}

/**
 * What the email-changed notice gets: the revert token (inside `action`) and the address the account moved to.
 *
 * @since 0.3.0
 * @category models
 */
export interface EmailChangedInput extends TokenInput {
  readonly newEmail: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The product name the messages mention. Default `"UserHarbor"`. */
  readonly appName?: string
  /** Builds the verification link; put the token in the fragment or path, never in the query string. */
  readonly verificationUrl?: (token: string) => string
  /** Builds the password reset link; put the token in the fragment or path, never in the query string. */
  readonly resetUrl?: (token: string) => string
  /** Builds the link that confirms a change of address; the token in the fragment or path, never the query. */
  readonly emailChangeUrl?: (token: string) => string
  /** Builds the link that reverts a change of address; the token in the fragment or path, never the query. */
  readonly revertEmailChangeUrl?: (token: string) => string
  /** Templates replacing the defaults, one by one. */
  readonly templates?: Partial<Templates>
}

/**
 * Renders every kind of message with the app's options.
 *
 * @since 0.1.0
 * @category models
 */
export interface EmailTemplates {
  readonly render: (message: EmailMessage) => RenderedEmail
}

const htmlEntities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\"": "&quot;",
  "'": "&#39;"
}

/**
 * Escapes a value for HTML text and for a double- or single-quoted attribute.
 *
 * @since 0.1.0
 * @category utils
 */
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (char) => htmlEntities[char] ?? char)

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators: anything a mail header or a terminal
// could read as a line break.
const lineBreaking = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g

/**
 * Cuts a value to one line for a header (subject, display name): every run of control characters, CR and LF
 * included, becomes a single space.
 *
 * @since 0.1.0
 * @category utils
 */
export const singleLine = (value: string): string => value.replace(lineBreaking, " ").trim()

const formatDate = (date: Date): string => date.toUTCString()

interface Draft {
  readonly subject: string
  readonly to: Recipient
  readonly paragraphs: ReadonlyArray<string>
  readonly action?: { readonly value: Action; readonly label: string; readonly codeIntro: string }
  readonly closing: ReadonlyArray<string>
}

// The defaults are all "greeting, paragraphs, maybe one action, closing": one layout gives both bodies, and
// escaping happens in this one place.
const compose = (draft: Draft): RenderedEmail => {
  const action = draft.action
  const textAction = action === undefined
    ? []
    : action.value._tag === "Link"
    ? [`${action.label}:\n${action.value.url}`]
    : [`${action.codeIntro}:\n${action.value.token}`]
  const htmlAction = action === undefined
    ? []
    : action.value._tag === "Link"
    ? [`<p><a href="${escapeHtml(action.value.url)}">${escapeHtml(action.label)}</a></p>`]
    : [
      `<p>${escapeHtml(action.codeIntro)}:</p>`,
      `<p><code style="font-size:1.1em">${escapeHtml(action.value.token)}</code></p>`
    ]
  const greeting = `Hello ${draft.to.username},`
  const text = [greeting, ...draft.paragraphs, ...textAction, ...draft.closing].join("\n\n") + "\n"
  const html = [
    "<!DOCTYPE html>",
    "<html><head><meta charset=\"utf-8\"></head><body>",
    `<p>${escapeHtml(greeting)}</p>`,
    ...draft.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    ...htmlAction,
    ...draft.closing.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    "</body></html>",
    ""
  ].join("\n")
  return { subject: draft.subject, text, html }
}

/**
 * The built-in templates.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Templates = {
  verification: ({ action, appName, expiresAt, to }) =>
    compose({
      subject: `Confirm your email address for ${appName}`,
      to,
      paragraphs: [`Please confirm that ${to.email} is your email address for ${appName}.`],
      action: { value: action, label: "Confirm your email address", codeIntro: "Enter this code to confirm it" },
      closing: [
        `This expires on ${formatDate(expiresAt)}.`,
        `If you did not create an account on ${appName}, you can ignore this email.`
      ]
    }),
  passwordReset: ({ action, appName, expiresAt, to }) =>
    compose({
      subject: `Reset your ${appName} password`,
      to,
      paragraphs: [`Someone asked to reset the password of your ${appName} account (${to.email}).`],
      action: { value: action, label: "Choose a new password", codeIntro: "Enter this code to choose a new password" },
      closing: [
        `This expires on ${formatDate(expiresAt)} and works once.`,
        "If you did not ask for this, ignore this email: your password stays as it is."
      ]
    }),
  registrationAttempt: ({ appName, to }) =>
    compose({
      subject: `Someone tried to register on ${appName} with your email address`,
      to,
      paragraphs: [
        `Someone tried to create a new ${appName} account with ${to.email}, which already has an account.`,
        "Nothing was changed. If it was you, log in or reset your password instead."
      ],
      closing: ["If it was not you, you can ignore this email."]
    }),
  passwordChanged: ({ appName, to }) =>
    compose({
      subject: `Your ${appName} password was changed`,
      to,
      paragraphs: [`The password of your ${appName} account (${to.email}) was just changed.`],
      closing: ["If you did not do this, reset your password now and check your account."]
    }),
  accountDeleted: ({ appName, to }) =>
    compose({
      subject: `Your ${appName} account was deleted`,
      to,
      paragraphs: [`Your ${appName} account (${to.email}) and its data were deleted.`],
      closing: ["If you did not do this, contact us."]
    }),
  emailChangeConfirmation: ({ action, appName, expiresAt, to }) =>
    compose({
      subject: `Confirm your new email address for ${appName}`,
      to,
      paragraphs: [`Please confirm that your ${appName} account should use ${to.email} from now on.`],
      action: { value: action, label: "Confirm the new address", codeIntro: "Enter this code to confirm it" },
      closing: [
        `This expires on ${formatDate(expiresAt)} and works once.`,
        "If you did not ask for this, ignore this email: nothing changes."
      ]
    }),
  emailChangeAttempt: ({ appName, to }) =>
    compose({
      subject: `Someone tried to move a ${appName} account to your email address`,
      to,
      paragraphs: [
        `Someone asked to move another ${appName} account to ${to.email}, which already has an account.`,
        "Nothing was changed."
      ],
      closing: ["If it was not you, you can ignore this email."]
    }),
  emailChanged: ({ action, appName, expiresAt, newEmail, to }) =>
    compose({
      subject: `The email address of your ${appName} account was changed`,
      to,
      paragraphs: [`Your ${appName} account now uses ${newEmail} instead of ${to.email}.`],
      action: {
        value: action,
        label: "This was not me: restore my address",
        codeIntro: "If this was not you, enter this code to restore your address"
      },
      closing: [
        `The link works once, until ${formatDate(expiresAt)}. It signs every device out; then reset your password.`,
        "If you made this change, you can ignore this email."
      ]
    })
}

const toAction = (token: Redacted.Redacted<string>, link: ((token: string) => string) | undefined): Action => {
  // The raw token leaves its Redacted wrapper here, at the last step before it is written into the body.
  const raw = Redacted.value(token)
  return link === undefined ? { _tag: "Code", token: raw } : { _tag: "Link", url: link(raw) }
}

/**
 * The templates with the app's options: defaults for every kind not replaced.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert"
 * import { Redacted } from "effect"
 * import { EmailSender, EmailTemplates } from "userharbor"
 *
 * const templates = EmailTemplates.make({
 *   appName: "Acme",
 *   verificationUrl: (token) => `https://acme.example/verify#${token}`
 * })
 * const { subject, text } = templates.render(
 *   new EmailSender.VerificationEmail({
 *     to: { username: "jane", email: "jane@example.com" },
 *     token: Redacted.make("tok3n"),
 *     expiresAt: new Date("2030-01-01T00:00:00Z")
 *   })
 * )
 * ok(subject.includes("Acme"))
 * ok(text.includes("https://acme.example/verify#tok3n"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): EmailTemplates => {
  const templates: Templates = { ...defaults, ...options.templates }
  const appName = singleLine(options.appName ?? "UserHarbor")
  const renderRaw = (message: EmailMessage): RenderedEmail => {
    // Templates get one-line values, so a name cannot start a line of its own in a body (or a header).
    const to: Recipient = { username: singleLine(message.to.username), email: singleLine(message.to.email) }
    const tokenInput = (
      tokenMessage: { readonly token: Redacted.Redacted<string>; readonly expiresAt: Date },
      link: ((token: string) => string) | undefined
    ): TokenInput => ({ appName, to, expiresAt: tokenMessage.expiresAt, action: toAction(tokenMessage.token, link) })
    switch (message._tag) {
      case "VerificationEmail":
        return templates.verification(tokenInput(message, options.verificationUrl))
      case "PasswordResetEmail":
        return templates.passwordReset(tokenInput(message, options.resetUrl))
      case "RegistrationAttemptEmail":
        return templates.registrationAttempt({ appName, to })
      case "PasswordChangedEmail":
        return templates.passwordChanged({ appName, to })
      case "AccountDeletedEmail":
        return templates.accountDeleted({ appName, to })
      case "EmailChangeConfirmationEmail":
        return templates.emailChangeConfirmation(tokenInput(message, options.emailChangeUrl))
      case "EmailChangeAttemptEmail":
        return templates.emailChangeAttempt({ appName, to })
      case "EmailChangedEmail":
        return templates.emailChanged({
          ...tokenInput(message, options.revertEmailChangeUrl),
          newEmail: singleLine(message.newEmail)
        })
    }
  }
  return {
    render: (message) => {
      const rendered = renderRaw(message)
      return { subject: singleLine(rendered.subject), text: rendered.text, html: rendered.html }
    }
  }
}
