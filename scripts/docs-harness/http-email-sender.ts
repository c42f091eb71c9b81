/**
 * Harness for docs/email.md's custom `EmailSender` over HTTP (`<!-- docs:run harness=http-email-sender -->`).
 * scripts/docs-check.ts compiles it next to the block, with `./BLOCK.js` replaced by the block's module, and runs
 * it: the sender posts to a real HTTP server on loopback, and each answer maps to the documented reason.
 */
import { Cause, Effect, Exit, Option, Redacted } from "effect"
import { strictEqual } from "node:assert"
import { createServer } from "node:http"
import { EmailSender } from "userharbor"
import { layer } from "./BLOCK.js"

interface Received {
  readonly authorization: string | undefined
  readonly body: string
}

const received: Array<Received> = []
let status = 200
const server = createServer((req, res) => {
  let body = ""
  req.on("data", (chunk: Buffer) => body += chunk.toString())
  req.on("end", () => {
    received.push({ authorization: req.headers.authorization, body })
    res.writeHead(status).end()
  })
})
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
const address = server.address()
const port = typeof address === "object" && address !== null ? address.port : 0

const message = new EmailSender.VerificationEmail({
  to: { username: "jane", email: "jane@example.com" },
  token: Redacted.make("tok-abc-123"),
  expiresAt: new Date(Date.now() + 3_600_000)
})

const send = (endpoint: string) =>
  Effect.runPromiseExit(
    Effect.flatMap(EmailSender.EmailSender, (sender) => sender.send(message)).pipe(
      Effect.provide(layer({ endpoint, apiKey: Redacted.make("key-123"), from: "no-reply@acme.example" }))
    )
  )

const reasonOf = (exit: Exit.Exit<void, { readonly reason: string }>): string =>
  Exit.isSuccess(exit) ? "success" : Option.getOrElse(
    Option.map(Cause.failureOption(exit.cause), (error) => error.reason),
    () => `defect: ${Cause.pretty(exit.cause)}`
  )

const endpoint = `http://127.0.0.1:${port}/send`
strictEqual(reasonOf(await send(endpoint)), "success")
const first = received[0]
if (first === undefined) throw new Error("the sender made no request")
strictEqual(first.authorization, "Bearer key-123")
const body: unknown = JSON.parse(first.body)
strictEqual(typeof body === "object" && body !== null && "to" in body ? body.to : undefined, "jane@example.com")
strictEqual(first.body.includes("tok-abc-123"), true, "the token is in the message body")

status = 401
strictEqual(reasonOf(await send(endpoint)), "auth")
status = 422
strictEqual(reasonOf(await send(endpoint)), "rejected")
status = 500
strictEqual(reasonOf(await send(endpoint)), "unknown")

await new Promise<void>((resolve) => server.close(() => resolve()))
// Nothing listens there any more
strictEqual(reasonOf(await send(endpoint)), "connect")
console.log("the HTTP email sender delivered once and mapped 401, 422, 500 and a refused connection")
