import { describe, expect, it } from "@effect/vitest"
import { Console, Effect, Redacted } from "effect"
import * as ConsoleEmailSender from "../../src/ConsoleEmailSender.js"
import { AccountDeletedEmail, EmailSender, VerificationEmail } from "../../src/EmailSender.js"

// A Console that keeps what `log` prints; the sender must print through Effect's Console, not `globalThis.console`.
const capturing = () => {
  const lines: Array<string> = []
  const ignore = () => Effect.void
  const console: Console.Console = {
    [Console.TypeId]: Console.TypeId,
    assert: ignore,
    clear: Effect.void,
    count: ignore,
    countReset: ignore,
    debug: ignore,
    dir: ignore,
    dirxml: ignore,
    error: ignore,
    group: ignore,
    groupEnd: Effect.void,
    info: ignore,
    log: (...args) => Effect.sync(() => void lines.push(args.map(String).join(" "))),
    table: ignore,
    time: ignore,
    timeEnd: ignore,
    timeLog: ignore,
    trace: ignore,
    warn: ignore,
    unsafe: globalThis.console
  }
  return { console, lines }
}

describe("ConsoleEmailSender", () => {
  it.effect("prints the recipient, the subject and the text body with the link", () =>
    Effect.gen(function*() {
      const { console, lines } = capturing()
      const token = "tok-" + "x".repeat(39)
      yield* Effect.flatMap(EmailSender, (sender) =>
        Effect.zipRight(
          sender.send(
            new VerificationEmail({
              to: { username: "dave", email: "dave@example.com" },
              token: Redacted.make(token),
              expiresAt: new Date(0)
            })
          ),
          sender.send(new AccountDeletedEmail({ to: { username: "erin", email: "erin@example.com" } }))
        )).pipe(
          Effect.provide(ConsoleEmailSender.layer({
            appName: "Demo",
            verificationUrl: (t) => `http://localhost:3000/verify#${t}`
          })),
          Effect.withConsole(console)
        )
      expect(lines).toHaveLength(2)
      const [first, second] = lines
      expect(first).toContain("To: dave <dave@example.com>")
      expect(first).toContain("Subject: Confirm your email address for Demo")
      expect(first).toContain("Hello dave,")
      expect(first?.split(`http://localhost:3000/verify#${token}`)).toHaveLength(2)
      expect(first).not.toContain("<p>")
      expect(second).toContain("To: erin <erin@example.com>")
      expect(second).toContain("Subject: Your Demo account was deleted")
    }))

  it.effect("prints a line-breaking username on one line", () =>
    Effect.gen(function*() {
      const { console, lines } = capturing()
      yield* ConsoleEmailSender.make().send(
        new AccountDeletedEmail({ to: { username: "mal\r\nSubject: fake", email: "mal@example.com" } })
      ).pipe(Effect.withConsole(console))
      const headerLines = (lines[0] ?? "").split("\n").filter((line) => line.startsWith("Subject:"))
      expect(headerLines).toEqual(["Subject: Your UserHarbor account was deleted"])
      expect(lines[0]).toContain("To: mal Subject: fake <mal@example.com>")
    }))
})
