/**
 * Harness for docs/email.md's replaced verification template (`<!-- docs:run harness=replace-templates -->`):
 * the replacement renders with the link and escapes the username in HTML; the templates not replaced stay the
 * defaults. Without a reset link builder, the reset message shows the token itself.
 */
import { Redacted } from "effect"
import { ok, strictEqual } from "node:assert"
import { EmailSender, EmailTemplates } from "userharbor"
import { templates } from "./BLOCK.js"

const to = { username: "<b>jane</b>", email: "jane@example.com" }
const expiresAt = new Date("2030-01-01T00:00:00Z")
const rendered = EmailTemplates.make(templates)

const verification = rendered.render(
  new EmailSender.VerificationEmail({ to, token: Redacted.make("tok-123"), expiresAt })
)
strictEqual(verification.subject, "Welcome to Acme, <b>jane</b>")
ok(verification.text.includes("Confirm your address: https://acme.example/verify#tok-123"), verification.text)
ok(verification.html.includes("Hi &lt;b&gt;jane&lt;/b&gt;,"), verification.html)
ok(!verification.html.includes("<b>jane"), "the username is escaped in HTML")

const reset = rendered.render(new EmailSender.PasswordResetEmail({ to, token: Redacted.make("tok-456"), expiresAt }))
ok(reset.subject.includes("Acme"), reset.subject)
ok(reset.text.includes("tok-456"), "the default reset template shows the token")
console.log(`replaced: "${verification.subject}"; default: "${reset.subject}"`)
