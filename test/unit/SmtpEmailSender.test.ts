import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Either, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as net from "node:net"
import {
  type EmailMessage,
  EmailSender,
  PasswordChangedEmail,
  PasswordResetEmail,
  type Recipient,
  VerificationEmail
} from "../../src/EmailSender.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as PasswordHasher from "../../src/PasswordHasher.js"
import * as SecureRandom from "../../src/SecureRandom.js"
import * as SmtpEmailSender from "../../src/SmtpEmailSender.js"
import * as UserHarbor from "../../src/UserHarbor.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import * as SmtpTestServer from "../support/SmtpTestServer.js"
import { type Certificate, occurrences, parseMessage, partOf } from "../support/SmtpTestServer.js"

const smtpUser = "mailer"
const smtpPassword = "Smtp-Password-4c1d9e"
const users = { [smtpUser]: smtpPassword }
const from = { name: "Example App", address: "noreply@app.example" }
const alice: Recipient = { username: "alice", email: "alice@example.com" }

const newToken = () => randomBytes(32).toString("base64url")
const verification = (to: Recipient, token: string) =>
  new VerificationEmail({ to, token: Redacted.make(token), expiresAt: new Date("2030-01-02T03:04:05Z") })

const baseOptions = (port: number, certificate: Certificate | undefined): SmtpEmailSender.Options => ({
  host: "127.0.0.1",
  port,
  auth: { user: smtpUser, password: Redacted.make(smtpPassword) },
  from,
  ...(certificate === undefined ? {} : { tls: { ca: certificate.cert } }),
  templates: {
    appName: "Example App",
    verificationUrl: (token) => `https://app.example/verify#${token}`,
    resetUrl: (token) => `https://app.example/reset/${token}`
  }
})

const send = (options: SmtpEmailSender.Options, message: EmailMessage) =>
  Effect.flatMap(EmailSender, (sender) => sender.send(message)).pipe(
    Effect.provide(Layer.orDie(SmtpEmailSender.layer(options)))
  )

// Every failure goes through this: the error must be typed, and nothing secret may be in any rendering of it.
const failure = (options: SmtpEmailSender.Options, token: string) =>
  send(options, verification(alice, token)).pipe(
    Effect.flip,
    Effect.tap((error) =>
      Effect.sync(() => {
        expect(error._tag).toBe("EmailDeliveryError")
        for (const rendered of [error.message, String(error), JSON.stringify(error), JSON.stringify(error.toJSON())]) {
          expect(rendered).not.toContain(smtpPassword)
          expect(rendered).not.toContain(token)
          expect(rendered).not.toContain(alice.email)
        }
      })
    )
  )

describe("SmtpEmailSender", () => {
  it.scopedLive("delivers over STARTTLS after AUTH, as multipart text and HTML with the link once in each", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users })
      const token = newToken()
      yield* send(baseOptions(server.port, certificate), verification(alice, token))

      const received = yield* server.received
      expect(received).toHaveLength(1)
      const [delivered] = received
      expect(delivered?.secure).toBe(true)
      expect(delivered?.user).toBe(smtpUser)
      expect(delivered?.mailFrom).toBe(from.address)
      expect(delivered?.rcptTo).toEqual([alice.email])

      const message = parseMessage(delivered?.raw ?? "")
      expect(message.header("from")).toEqual(["Example App <noreply@app.example>"])
      expect(message.header("to")).toEqual(["alice <alice@example.com>"])
      expect(message.header("subject")).toEqual(["Confirm your email address for Example App"])
      expect(message.header("content-type")[0]).toMatch(/^multipart\/alternative;/)
      expect(message.parts.map((part) => part.contentType)).toEqual(["text/plain", "text/html"])

      const link = `https://app.example/verify#${token}`
      const text = partOf(message, "text/plain")
      const html = partOf(message, "text/html")
      expect(occurrences(text, token)).toBe(1)
      expect(occurrences(text, link)).toBe(1)
      expect(occurrences(html, token)).toBe(1)
      expect(html).toContain(`<a href="${link}">`)
      expect(text).toContain("Hello alice,")
    }))

  it.scopedLive("puts the reset token in the link's path, and shows the bare token when there is no link", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users })
      const linked = newToken()
      const bare = newToken()
      const reset = (token: string) =>
        new PasswordResetEmail({ to: alice, token: Redacted.make(token), expiresAt: new Date("2030-01-01T00:00:00Z") })
      const options = baseOptions(server.port, certificate)
      yield* send(options, reset(linked))
      yield* send({ ...options, templates: { appName: "Example App" } }, reset(bare))

      const [first, second] = (yield* server.received).map((received) => parseMessage(received.raw))
      expect(first?.header("subject")).toEqual(["Reset your Example App password"])
      for (
        const [message, token, shown] of [
          [first, linked, `https://app.example/reset/${linked}`],
          [second, bare, bare]
        ] as const
      ) {
        if (message === undefined) throw new Error("message missing")
        for (const body of [partOf(message, "text/plain"), partOf(message, "text/html")]) {
          expect(occurrences(body, token)).toBe(1)
          expect(body).toContain(shown)
          expect(body).not.toMatch(/[?&]token=/)
        }
      }
    }))

  it.scopedLive("a wrong SMTP password fails with reason auth and delivers nothing", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users })
      const error = yield* failure(
        {
          ...baseOptions(server.port, certificate),
          auth: { user: smtpUser, password: Redacted.make("wrong-password") }
        },
        newToken()
      )
      expect(error.reason).toBe("auth")
      expect(error.detail).toBe("EAUTH SMTP 535")
      expect(yield* server.received).toEqual([])
      expect((yield* server.logins).map((login) => login.user)).toEqual([smtpUser])
    }))

  it.scopedLive("refuses to send when the server cannot do STARTTLS, before the password is sent", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users, noStartTls: true, allowInsecureAuth: true })
      const error = yield* failure(baseOptions(server.port, certificate), newToken())
      expect(error.reason).toBe("tls")
      expect(yield* server.logins).toEqual([])
      expect(yield* server.received).toEqual([])
    }))

  it.scopedLive("upgrades with STARTTLS even when the server leaves it out of EHLO", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users, hideSTARTTLS: true })
      yield* send(baseOptions(server.port, certificate), verification(alice, newToken()))
      const received = yield* server.received
      expect(received.map((message) => message.secure)).toEqual([true])
    }))

  it.scopedLive("fails with reason tls for an untrusted or mismatched certificate, before the password is sent", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users })
      const untrusted = yield* failure(baseOptions(server.port, undefined), newToken())
      expect(untrusted.reason).toBe("tls")
      expect(untrusted.detail).toBe("ESOCKET (DEPTH_ZERO_SELF_SIGNED_CERT)")
      const mismatched = yield* failure(
        { ...baseOptions(server.port, certificate), tls: { ca: certificate.cert, servername: "mail.other.example" } },
        newToken()
      )
      expect(mismatched.reason).toBe("tls")
      // A certificate from another key, trusted as CA, does not vouch for this server either.
      const other = yield* SmtpTestServer.certificate
      const wrongCa = yield* failure(baseOptions(server.port, other), newToken())
      expect(wrongCa.reason).toBe("tls")
      expect(yield* server.logins).toEqual([])
      expect(yield* server.received).toEqual([])
    }))

  it.scopedLive("accepts an untrusted certificate only with the loudly named option", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users })
      yield* send(
        {
          ...baseOptions(server.port, undefined),
          tls: { insecureSkipCertificateVerificationForLocalTestingOnly: true }
        },
        verification(alice, newToken())
      )
      expect((yield* server.received).map((message) => message.secure)).toEqual([true])
    }))

  it.scopedLive("implicit TLS: delivers with the trusted certificate, fails with reason tls without it", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users, secure: true })
      yield* send({ ...baseOptions(server.port, certificate), security: "tls" }, verification(alice, newToken()))
      const error = yield* failure({ ...baseOptions(server.port, undefined), security: "tls" }, newToken())
      expect(error.reason).toBe("tls")
      const received = yield* server.received
      expect(received.map((message) => message.secure)).toEqual([true])
    }))

  it.scopedLive("plaintext only with the loudly named mode", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users, noStartTls: true, allowInsecureAuth: true })
      yield* send(
        { ...baseOptions(server.port, undefined), security: "insecure-plaintext-for-local-testing-only" },
        verification(alice, newToken())
      )
      const received = yield* server.received
      expect(received.map((message) => [message.secure, message.user])).toEqual([[false, smtpUser]])
    }))

  it.scopedLive("escapes a hostile username and address in the HTML body", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users })
      const hostile: Recipient = { username: "<script>alert(1)</script>", email: "o'brien&co@example.com" }
      yield* send(baseOptions(server.port, certificate), verification(hostile, newToken()))
      const [received] = yield* server.received
      expect(received?.rcptTo).toEqual([hostile.email])
      const message = parseMessage(received?.raw ?? "")
      const html = partOf(message, "text/html")
      expect(html).not.toContain("<script>")
      expect(html).toContain("Hello &lt;script&gt;alert(1)&lt;/script&gt;,")
      expect(html).toContain("o&#39;brien&amp;co@example.com")
      expect(partOf(message, "text/plain")).toContain("Hello <script>alert(1)</script>,")
    }))

  it.scopedLive("CR/LF in the username, the From name or a subject cannot add headers or recipients", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users })
      const injected = "\r\nBcc: victim@evil.example\r\nX-Injected: yes"
      const options: SmtpEmailSender.Options = {
        ...baseOptions(server.port, certificate),
        from: { name: `Example App${injected}`, address: from.address },
        templates: {
          templates: {
            passwordChanged: ({ to }) => ({
              subject: `Changed${injected}\n\rX-Other: 1`,
              text: `Hi ${to.username}`,
              html: ""
            })
          }
        }
      }
      yield* send(options, new PasswordChangedEmail({ to: { username: `eve${injected}`, email: alice.email } }))
      const [received] = yield* server.received
      expect(received?.rcptTo).toEqual([alice.email])
      const message = parseMessage(received?.raw ?? "")
      const names = message.headers.map(([name]) => name)
      expect(names).not.toContain("bcc")
      expect(names).not.toContain("x-injected")
      expect(names).not.toContain("x-other")
      expect(message.header("from")).toHaveLength(1)
      expect(message.header("to")).toHaveLength(1)
      expect(message.header("subject")).toEqual(["Changed Bcc: victim@evil.example X-Injected: yes X-Other: 1"])
      expect(message.header("from")[0]).toBe(
        "\"Example App Bcc: victim@evil.example X-Injected: yes\" <noreply@app.example>"
      )
      expect(message.header("to")[0]).toBe("\"eve Bcc: victim@evil.example X-Injected: yes\" <alice@example.com>")
    }))

  it.effect("refuses a recipient address that holds a separator or a line break", () =>
    Effect.gen(function*() {
      for (const email of ["alice@example.com, bob@example.com", "alice@example.com\r\nbob@example.com", "x"]) {
        const error = yield* send(
          baseOptions(1, undefined),
          verification({ username: "alice", email }, newToken())
        ).pipe(Effect.flip)
        expect(error.reason).toBe("rejected")
        expect(error.detail).toBe("invalid recipient address")
      }
    }))

  it.scopedLive("a refused recipient fails with reason rejected, without the address in the error", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users, refuse: [alice.email] })
      const error = yield* failure(baseOptions(server.port, certificate), newToken())
      expect(error.reason).toBe("rejected")
      expect(error.detail).toBe("EENVELOPE SMTP 550")
      expect(yield* server.received).toEqual([])
    }))

  it.scopedLive("a closed port fails with reason connect", () =>
    Effect.gen(function*() {
      const port = yield* Effect.async<number>((resume) => {
        const probe = net.createServer()
        probe.listen(0, "127.0.0.1", () => {
          const address = probe.address()
          probe.close(() => resume(Effect.succeed(address !== null && typeof address === "object" ? address.port : 0)))
        })
      })
      const error = yield* failure(baseOptions(port, undefined), newToken())
      expect(error.reason).toBe("connect")
      expect(error.detail).toBe("ESOCKET (ECONNREFUSED)")
    }))

  it.scopedLive("a server that never answers fails with reason timeout within the greeting timeout", () =>
    Effect.gen(function*() {
      const silent = yield* SmtpTestServer.silentServer
      const bound = 500
      const started = performance.now()
      const error = yield* failure(
        { ...baseOptions(silent.port, undefined), timeouts: { connection: bound, greeting: bound, socket: bound } },
        newToken()
      )
      const elapsed = performance.now() - started
      expect(error.reason).toBe("timeout")
      expect(elapsed).toBeGreaterThanOrEqual(bound - 50)
      expect(elapsed).toBeLessThan(bound + 1000)
    }))

  it.scopedLive("the overall send bound interrupts a stalled session and closes its connection", () =>
    Effect.gen(function*() {
      const silent = yield* SmtpTestServer.silentServer
      const bound = 400
      const started = performance.now()
      const error = yield* failure(
        {
          ...baseOptions(silent.port, undefined),
          timeouts: { greeting: "30 seconds", socket: "30 seconds", send: bound }
        },
        newToken()
      )
      const elapsed = performance.now() - started
      expect(error.reason).toBe("timeout")
      expect(error.detail).toBe(`no answer within ${bound} ms`)
      expect(elapsed).toBeLessThan(bound + 1000)
      // the aborted session hangs up instead of waiting for its own 30-second timeouts
      yield* Effect.sleep("100 millis")
      expect(yield* silent.connections).toBe(0)
    }))

  it.scopedLive("a pooled transport delivers several messages and closes with the layer", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users })
      const tokens = [newToken(), newToken(), newToken()]
      yield* Effect.flatMap(EmailSender, (sender) =>
        Effect.forEach(tokens, (token) => sender.send(verification(alice, token)), { concurrency: 3 })).pipe(
          Effect.provide(
            SmtpEmailSender.layer({ ...baseOptions(server.port, certificate), pool: { maxConnections: 2 } })
          )
        )
      const bodies = (yield* server.received).map((received) =>
        partOf(parseMessage(received.raw), "text/plain")
      )
      expect(bodies).toHaveLength(3)
      for (const token of tokens) expect(bodies.filter((body) => body.includes(token))).toHaveLength(1)
    }))

  it.scopedLive("layerConfig reads USERHARBOR_SMTP_* with the password as Redacted", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users })
      const env = new Map([
        ["USERHARBOR_SMTP_HOST", "127.0.0.1"],
        ["USERHARBOR_SMTP_PORT", String(server.port)],
        ["USERHARBOR_SMTP_USER", smtpUser],
        ["USERHARBOR_SMTP_PASSWORD", smtpPassword],
        ["USERHARBOR_SMTP_FROM", from.address],
        ["USERHARBOR_SMTP_FROM_NAME", "From Env"]
      ])
      const provider = Layer.setConfigProvider(ConfigProvider.fromMap(env))
      const options = yield* Effect.withConfigProvider(SmtpEmailSender.fromEnv, ConfigProvider.fromMap(env))
      expect(Redacted.isRedacted(options.auth?.password)).toBe(true)
      expect(String(options.auth?.password)).not.toContain(smtpPassword)
      expect(options.security).toBe("starttls")

      const layer = SmtpEmailSender.layerConfig(
        Config.map(SmtpEmailSender.fromEnv, (options) => ({ ...options, tls: { ca: certificate.cert } }))
      ).pipe(Layer.provide(provider))
      const token = newToken()
      yield* Effect.flatMap(EmailSender, (sender) => sender.send(verification(alice, token))).pipe(
        Effect.provide(layer)
      )
      const [received] = yield* server.received
      expect(received?.user).toBe(smtpUser)
      expect(parseMessage(received?.raw ?? "").header("from")).toEqual(["From Env <noreply@app.example>"])

      const halfAuth = new Map([...env].filter(([key]) => key !== "USERHARBOR_SMTP_PASSWORD"))
      const missing = yield* Effect.withConfigProvider(SmtpEmailSender.fromEnv, ConfigProvider.fromMap(halfAuth)).pipe(
        Effect.either
      )
      expect(Either.isLeft(missing)).toBe(true)
    }))

  it.effect("rejects bad options with a ConfigError when the layer is built", () =>
    Effect.gen(function*() {
      const good = baseOptions(587, undefined)
      const bad: ReadonlyArray<SmtpEmailSender.Options> = [
        { ...good, port: 0 },
        { ...good, port: 70000 },
        { ...good, host: "" },
        { ...good, host: "smtp.example\r\nX: y" },
        { ...good, from: { address: "not an address" } },
        { ...good, timeouts: { greeting: -1 } }
      ]
      for (const options of bad) {
        const result = yield* Layer.build(SmtpEmailSender.layer(options)).pipe(Effect.scoped, Effect.either)
        expect(Either.isLeft(result) && result.left._op).toBe("InvalidData")
      }
    }))

  it.scopedLive("UserHarbor.register -> SMTP -> the link's token -> verifyEmail, and the reset flow", () =>
    Effect.gen(function*() {
      const certificate = yield* SmtpTestServer.certificate
      const server = yield* SmtpTestServer.start({ certificate, users })
      const harbor = UserHarbor.layer.pipe(
        Layer.provide(Layer.mergeAll(
          MemoryUserStore.layer,
          PasswordHasher.layerInsecureForTesting,
          SecureRandom.layer,
          UserHarborConfig.layer({ secretKey: Redacted.make("smtp-test-secret-key-0123456789abcdef-0123") }),
          SmtpEmailSender.layer(baseOptions(server.port, certificate))
        ))
      )
      const tokenIn = (raw: string, prefix: string) => {
        const message = parseMessage(raw)
        const pattern = new RegExp(`${prefix.replace(/[/.]/g, "\\$&")}([A-Za-z0-9_-]{43})`)
        const fromText = pattern.exec(partOf(message, "text/plain"))?.[1]
        const fromHtml = pattern.exec(partOf(message, "text/html"))?.[1]
        expect(fromText).toBeDefined()
        expect(fromHtml).toBe(fromText)
        return fromText ?? ""
      }
      yield* Effect.gen(function*() {
        const harbor = yield* UserHarbor.UserHarbor
        const password = "correct horse battery staple 42"
        yield* harbor.register({ username: "carol", email: "carol@example.com", password })
        const [welcome] = yield* server.received
        expect(welcome?.rcptTo).toEqual(["carol@example.com"])
        const verifyToken = tokenIn(welcome?.raw ?? "", "https://app.example/verify#")
        const before = yield* harbor.login({ email: "carol@example.com", password }).pipe(Effect.flip)
        expect(before._tag).toBe("EmailNotVerified")
        yield* harbor.verifyEmail(verifyToken)
        yield* harbor.login({ email: "carol@example.com", password })

        yield* harbor.sendPasswordReset("carol@example.com")
        const resetMail = (yield* server.received)[1]
        const resetToken = tokenIn(resetMail?.raw ?? "", "https://app.example/reset/")
        const newPassword = "another long passphrase 77"
        yield* harbor.resetPassword({ token: resetToken, newPassword })
        yield* harbor.login({ email: "carol@example.com", password: newPassword })
      }).pipe(Effect.provide(harbor))
    }))
})
