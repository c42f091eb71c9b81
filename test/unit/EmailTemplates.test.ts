import { describe, expect, it } from "@effect/vitest"
import { Redacted } from "effect"
import * as fc from "fast-check"
import {
  AccountDeletedEmail,
  EmailChangeAttemptEmail,
  EmailChangeConfirmationEmail,
  EmailChangedEmail,
  type EmailMessage,
  PasswordChangedEmail,
  PasswordResetEmail,
  type Recipient,
  RegistrationAttemptEmail,
  VerificationEmail
} from "../../src/EmailSender.js"
import * as EmailTemplates from "../../src/EmailTemplates.js"

const token = "Tk0_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
const expiresAt = new Date("2031-05-06T07:08:09Z")
const bob: Recipient = { username: "bob", email: "bob@example.com" }
const count = (haystack: string, needle: string) => haystack.split(needle).length - 1

const allKinds = (to: Recipient): ReadonlyArray<EmailMessage> => [
  new VerificationEmail({ to, token: Redacted.make(token), expiresAt }),
  new PasswordResetEmail({ to, token: Redacted.make(token), expiresAt }),
  new RegistrationAttemptEmail({ to }),
  new PasswordChangedEmail({ to }),
  new AccountDeletedEmail({ to })
]

describe("EmailTemplates", () => {
  it("has a default subject, text and HTML body for every kind, naming the app and the recipient", () => {
    const templates = EmailTemplates.make({ appName: "Harbor Demo" })
    const subjects = new Set<string>()
    for (const message of allKinds(bob)) {
      const rendered = templates.render(message)
      expect(rendered.subject).toContain("Harbor Demo")
      expect(rendered.subject).not.toMatch(/[\r\n]/)
      subjects.add(rendered.subject)
      expect(rendered.text).toContain("Hello bob,")
      expect(rendered.text).toContain("bob@example.com")
      expect(rendered.html).toContain("<p>Hello bob,</p>")
      expect(rendered.html).toMatch(/^<!DOCTYPE html>/)
    }
    expect(subjects.size).toBe(5)
  })

  it("shows the token exactly once per body: as the app's link, or bare without a link builder", () => {
    const linked = EmailTemplates.make({
      verificationUrl: (t) => `https://app.example/verify#${t}`,
      resetUrl: (t) => `https://app.example/reset/${t}`
    })
    const bare = EmailTemplates.make()
    const [verification, reset] = allKinds(bob)
    if (verification === undefined || reset === undefined) throw new Error("missing messages")
    for (
      const [templates, message, shown] of [
        [linked, verification, `https://app.example/verify#${token}`],
        [linked, reset, `https://app.example/reset/${token}`],
        [bare, verification, token],
        [bare, reset, token]
      ] as const
    ) {
      const rendered = templates.render(message)
      for (const body of [rendered.text, rendered.html]) {
        expect(count(body, token)).toBe(1)
        expect(count(body, shown)).toBe(1)
      }
      expect(rendered.subject).not.toContain(token)
      expect(rendered.text).toContain(expiresAt.toUTCString())
    }
    expect(linked.render(verification).html).toContain(`<a href="https://app.example/verify#${token}">`)
    expect(bare.render(verification).html).toContain(`<code style="font-size:1.1em">${token}</code>`)
  })

  it("renders the change-of-email messages: each token once, as its own link, the new address escaped", () => {
    const linked = EmailTemplates.make({
      appName: "Acme",
      emailChangeUrl: (t) => `https://app.example/confirm-email#${t}`,
      revertEmailChangeUrl: (t) => `https://app.example/revert-email#${t}`
    })
    const confirmation = new EmailChangeConfirmationEmail({ to: bob, token: Redacted.make(token), expiresAt })
    const changed = new EmailChangedEmail({
      to: bob,
      newEmail: "<b>evil</b>@example.com",
      token: Redacted.make(token),
      expiresAt
    })
    for (
      const [message, link] of [
        [confirmation, `https://app.example/confirm-email#${token}`],
        [changed, `https://app.example/revert-email#${token}`]
      ] as const
    ) {
      const rendered = linked.render(message)
      expect(rendered.subject).toContain("Acme")
      for (const body of [rendered.text, rendered.html]) {
        expect(count(body, token)).toBe(1)
        expect(count(body, link)).toBe(1)
      }
      expect(rendered.text).toContain(expiresAt.toUTCString())
    }
    expect(linked.render(changed).html).toContain("&lt;b&gt;evil&lt;/b&gt;@example.com")
    expect(linked.render(changed).html).not.toContain("<b>evil</b>")
    expect(EmailTemplates.make().render(confirmation).text).toContain(token)
    const attempt = linked.render(new EmailChangeAttemptEmail({ to: bob }))
    expect(attempt.text).toContain("bob@example.com")
    expect(attempt.text + attempt.html).not.toContain(token)
  })

  it("notices carry no token", () => {
    const templates = EmailTemplates.make({ verificationUrl: (t) => `https://app.example/v#${t}` })
    for (const message of allKinds(bob).slice(2)) {
      const rendered = templates.render(message)
      expect(rendered.text + rendered.html).not.toContain(token)
    }
  })

  it("replaces only the templates the app gives", () => {
    const templates = EmailTemplates.make({
      appName: "Acme",
      templates: {
        passwordChanged: ({ appName, to }) => ({
          subject: `[${appName}] password changed`,
          text: `Dear ${to.username}`,
          html: `<p>Dear ${EmailTemplates.escapeHtml(to.username)}</p>`
        })
      }
    })
    expect(templates.render(new PasswordChangedEmail({ to: bob }))).toEqual({
      subject: "[Acme] password changed",
      text: "Dear bob",
      html: "<p>Dear bob</p>"
    })
    expect(templates.render(new AccountDeletedEmail({ to: bob }))).toEqual(
      EmailTemplates.defaults.accountDeleted({ appName: "Acme", to: bob })
    )
  })

  it("cuts a replaced template's subject to one line", () => {
    const templates = EmailTemplates.make({
      templates: {
        accountDeleted: () => ({ subject: "Bye\r\nBcc: x@evil.example\u2028X: 1\u0000", text: "", html: "" })
      }
    })
    expect(templates.render(new AccountDeletedEmail({ to: bob })).subject).toBe("Bye Bcc: x@evil.example X: 1")
  })

  it("escapes a hostile username, address, app name and link in HTML", () => {
    const templates = EmailTemplates.make({
      appName: "<b>Acme</b>",
      verificationUrl: (t) => `https://app.example/verify#${t}"><script>x()</script>`
    })
    const hostile: Recipient = { username: "<img src=x onerror=alert(1)>", email: "o'neil&sons@example.com" }
    for (const message of allKinds(hostile)) {
      const { html } = templates.render(message)
      expect(html).not.toMatch(/<img|<script|<b>/)
      expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;")
      expect(html).toContain("o&#39;neil&amp;sons@example.com")
    }
    expect(templates.render(allKinds(hostile)[0]!).html).toContain(
      `href="https://app.example/verify#${token}&quot;&gt;&lt;script&gt;x()&lt;/script&gt;"`
    )
  })

  it("no value can add markup, a body line or a subject line break (property)", () => {
    const reference = EmailTemplates.make({ appName: "App", verificationUrl: (t) => `https://a.example/#${t}` })
    const markup = (html: string) => count(html, "<")
    // The link is the app's own code; only its markup is checked, so it may hold any character but a line break.
    const urlBase = fc.string().filter((url) => !/[\r\n]/.test(url))
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), urlBase, (username, email, appName, base) => {
        const templates = EmailTemplates.make({ appName, verificationUrl: (t) => `${base}#${t}` })
        const hostile = allKinds({ username, email })
        const benign = allKinds(bob)
        hostile.forEach((message, i) => {
          const rendered = templates.render(message)
          const expected = reference.render(benign[i]!)
          expect(markup(rendered.html)).toBe(markup(expected.html))
          expect(count(rendered.text, "\n")).toBe(count(expected.text, "\n"))
          expect(rendered.subject).not.toMatch(/[\r\n\u2028\u2029]/)
        })
      }),
      { numRuns: 300 }
    )
  })

  it("escapeHtml escapes the five HTML-significant characters", () => {
    expect(EmailTemplates.escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
    )
  })
})
