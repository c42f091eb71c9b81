/**
 * A real SMTP server for the tests (the `smtp-server` package) on 127.0.0.1 and a random port, with a self-signed
 * certificate made for each test, plus a minimal RFC 5322 / MIME reader for what it receives.
 */
import { Effect, Predicate, Ref } from "effect"
import type { Scope } from "effect"
import * as net from "node:net"
import * as selfsigned from "selfsigned"
import { SMTPServer, type SMTPServerOptions } from "smtp-server"

export interface Certificate {
  readonly key: string
  readonly cert: string
}

/** A self-signed certificate for `localhost` and 127.0.0.1 (EC, so it takes milliseconds). */
export const certificate: Effect.Effect<Certificate> = Effect.promise(() =>
  selfsigned.generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [{
      name: "subjectAltName",
      altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }]
    }]
  })
).pipe(Effect.map((pems) => ({ key: pems.private, cert: pems.cert })))

export interface Received {
  readonly mailFrom: string | undefined
  readonly rcptTo: ReadonlyArray<string>
  readonly user: string | undefined
  /** Whether the session was encrypted (implicit TLS or STARTTLS) when the message came in. */
  readonly secure: boolean
  readonly raw: string
}

export interface TestServer {
  readonly port: number
  readonly received: Effect.Effect<ReadonlyArray<Received>>
  /** Every AUTH attempt, successful or not, with the password the client sent. */
  readonly logins: Effect.Effect<ReadonlyArray<{ readonly user: string; readonly password: string }>>
}

export interface ServerOptions {
  readonly certificate: Certificate
  /** Implicit TLS (port-465 style). */
  readonly secure?: boolean
  /** Leaves STARTTLS out of the EHLO reply (the command still works). */
  readonly hideSTARTTLS?: boolean
  /** Refuses the STARTTLS command: the server cannot encrypt. */
  readonly noStartTls?: boolean
  /** user -> password; AUTH is required when given. */
  readonly users?: Readonly<Record<string, string>>
  /** Allows AUTH over a plaintext connection. */
  readonly allowInsecureAuth?: boolean
  /** Recipients the server refuses with 550. */
  readonly refuse?: ReadonlyArray<string>
  /** A fixed port (to restart a stopped server where its clients expect it); a random free one by default. */
  readonly port?: number
}

const addressOf = (value: unknown): string | undefined =>
  Predicate.hasProperty(value, "address") && Predicate.isString(value.address) ? value.address : undefined

/** Starts the server; it stops when the scope closes. */
export const start = (options: ServerOptions): Effect.Effect<TestServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const received = yield* Ref.make<ReadonlyArray<Received>>([])
    const logins = yield* Ref.make<ReadonlyArray<{ user: string; password: string }>>([])
    const users = options.users
    const serverOptions: SMTPServerOptions = {
      key: options.certificate.key,
      cert: options.certificate.cert,
      secure: options.secure ?? false,
      hideSTARTTLS: options.hideSTARTTLS ?? false,
      disabledCommands: options.noStartTls === true ? ["STARTTLS"] : [],
      authOptional: users === undefined,
      allowInsecureAuth: options.allowInsecureAuth ?? false,
      disableReverseLookup: true,
      logger: false,
      closeTimeout: 1000,
      onAuth: (auth, _session, callback) => {
        const user = auth.username ?? ""
        const password = auth.password ?? ""
        Effect.runSync(Ref.update(logins, (all) => [...all, { user, password }]))
        if (users !== undefined && users[user] === password) return callback(null, { user })
        const error = Object.assign(new Error("Invalid username or password"), { responseCode: 535 })
        callback(error)
      },
      onRcptTo: (address, _session, callback) => {
        if (options.refuse?.includes(address.address) === true) {
          return callback(Object.assign(new Error("No such user"), { responseCode: 550 }))
        }
        callback()
      },
      onData: (stream, session, callback) => {
        const chunks: Array<Buffer> = []
        stream.on("data", (chunk: Buffer) => chunks.push(chunk))
        stream.on("end", () => {
          const message: Received = {
            mailFrom: addressOf(session.envelope.mailFrom),
            rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            user: Predicate.isString(session.user) ? session.user : undefined,
            secure: session.secure,
            raw: Buffer.concat(chunks).toString("utf8")
          }
          Effect.runSync(Ref.update(received, (all) => [...all, message]))
          callback()
        })
      }
    }
    const server = yield* Effect.acquireRelease(
      Effect.async<SMTPServer>((resume) => {
        const server = new SMTPServer(serverOptions)
        // A client that hangs up during the TLS handshake (it rejected our certificate) is an expected event.
        server.on("error", () => {})
        server.listen(options.port ?? 0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) => Effect.async<void>((resume) => server.close(() => resume(Effect.void)))
    )
    const address = server.server.address()
    const port = address !== null && typeof address === "object" ? address.port : 0
    return { port, received: Ref.get(received), logins: Ref.get(logins) }
  })

/** A TCP server that accepts connections and never says a word. */
export const silentServer: Effect.Effect<
  { readonly port: number; readonly connections: Effect.Effect<number> },
  never,
  Scope.Scope
> = Effect.gen(function*() {
  const sockets = new Set<net.Socket>()
  const server = yield* Effect.acquireRelease(
    Effect.async<net.Server>((resume) => {
      const server = net.createServer((socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        socket.on("error", () => {})
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  )
  const address = server.address()
  return {
    port: address !== null && typeof address === "object" ? address.port : 0,
    connections: Effect.sync(() => sockets.size)
  }
})

// ---------------------------------------------------------------------------------------------------------------
// A minimal reader for the messages nodemailer writes: headers (unfolded, RFC 2047 words decoded), and the parts
// of a multipart body with their transfer encoding undone.

export interface Part {
  readonly contentType: string
  readonly body: string
}

export interface ParsedMessage {
  /** Header names in lower case, in order, values unfolded and decoded. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>
  readonly header: (name: string) => ReadonlyArray<string>
  readonly parts: ReadonlyArray<Part>
}

const splitHead = (raw: string): { head: string; body: string } => {
  const end = raw.indexOf("\r\n\r\n")
  return end < 0 ? { head: raw, body: "" } : { head: raw.slice(0, end), body: raw.slice(end + 4) }
}

const decodeQuotedPrintableBytes = (input: string): Buffer => {
  const bytes: Array<number> = []
  for (let i = 0; i < input.length; i++) {
    const char = input[i]
    const hex = input.slice(i + 1, i + 3)
    if (char === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16))
      i += 2
    } else {
      bytes.push(...Buffer.from(char ?? "", "utf8"))
    }
  }
  return Buffer.from(bytes)
}

const decodeWord = (charset: string, encoding: string, text: string): string => {
  const bytes = encoding.toUpperCase() === "B"
    ? Buffer.from(text, "base64")
    : decodeQuotedPrintableBytes(text.replace(/_/g, " "))
  if (charset.toLowerCase() !== "utf-8") throw new Error(`unexpected charset ${charset}`)
  return bytes.toString("utf8")
}

const decodeHeader = (value: string): string =>
  value
    // whitespace between two encoded words is not part of the text (RFC 2047, section 6.2)
    .replace(/(\?=)\s+(=\?)/g, "$1$2")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_match, charset: string, encoding: string, text: string) =>
      decodeWord(charset, encoding, text))

const parseHeaders = (head: string): ReadonlyArray<readonly [string, string]> =>
  head.replace(/\r\n(?=[ \t])/g, "").split("\r\n").filter((line) => line !== "").map((line) => {
    const colon = line.indexOf(":")
    return [line.slice(0, colon).trim().toLowerCase(), decodeHeader(line.slice(colon + 1).trim())] as const
  })

const decodeBody = (headers: ReadonlyArray<readonly [string, string]>, body: string): string => {
  const encoding = headers.find(([name]) => name === "content-transfer-encoding")?.[1].toLowerCase() ?? "7bit"
  if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8")
  if (encoding === "quoted-printable") return decodeQuotedPrintableBytes(body.replace(/=\r\n/g, "")).toString("utf8")
  return body
}

const contentTypeOf = (headers: ReadonlyArray<readonly [string, string]>): string =>
  headers.find(([name]) => name === "content-type")?.[1] ?? "text/plain"

export const parseMessage = (raw: string): ParsedMessage => {
  const { body, head } = splitHead(raw)
  const headers = parseHeaders(head)
  const contentType = contentTypeOf(headers)
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1]
  const parts: Array<Part> = []
  if (boundary === undefined) {
    parts.push({ contentType: contentType.split(";")[0]?.trim().toLowerCase() ?? "", body: decodeBody(headers, body) })
  } else {
    const sections = body.split(`--${boundary}`)
    // sections[0] is the preamble; the last one starts with "--" (the closing delimiter)
    for (const section of sections.slice(1)) {
      if (section.startsWith("--")) break
      const part = splitHead(section.replace(/^\r\n/, "").replace(/\r\n$/, ""))
      const partHeaders = parseHeaders(part.head)
      parts.push({
        contentType: contentTypeOf(partHeaders).split(";")[0]?.trim().toLowerCase() ?? "",
        body: decodeBody(partHeaders, part.body)
      })
    }
  }
  return {
    headers,
    header: (name) => headers.filter(([key]) => key === name.toLowerCase()).map(([, value]) => value),
    parts
  }
}

/** The decoded body of the part with this content type; fails the test when there is none. */
export const partOf = (message: ParsedMessage, contentType: string): string => {
  const part = message.parts.find((p) => p.contentType === contentType)
  if (part === undefined) throw new Error(`no ${contentType} part`)
  return part.body
}

/** How many times `needle` occurs in `haystack`. */
export const occurrences = (haystack: string, needle: string): number => haystack.split(needle).length - 1
