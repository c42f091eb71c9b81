/**
 * One contender of the HTTP benchmark as its own process (started by `bench/http/run.ts`):
 * `node --import tsx bench/http/server.ts <raw|raw-pg|bare|app>` with `PORT`, and `BENCH_SQLITE` (a seeded file)
 * or `BENCH_PG_URL` (a seeded schema), and `BENCH_CACHE=1` for the app with `SessionCache` (`BENCH_CHANNEL`: shared
 * over that PostgreSQL channel), `BENCH_TRUSTED_PROXIES` for its `trustedProxies`.
 *
 * - `raw`: the minimal correct authenticated endpoint by hand on `node:http`: the one cookie by its name, the
 *   token's shape, HMAC-SHA256, one prepared `better-sqlite3` statement (`raw-pg`: one named `pg` query), expiry,
 *   the same JSON and the same security headers as the app.
 * - `bare`: an `HttpApi` endpoint answering the same JSON (same `Account` schema) with no authentication, no
 *   middleware: what the framework costs by itself.
 * - `app`: the example app (`BENCH_LOG_ALL=1`: with a log line per request, as before issue 16) (`examples/http-app`) with its real wiring: every middleware, the logger, the outbox
 *   worker, argon2 (unused here), on SQLite or PostgreSQL.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import Database from "better-sqlite3"
import { Layer } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import pg from "pg"
import * as App from "../../examples/http-app/App.js"
import { hashToken, sessionQuery } from "../fixtures.js"
import { appLayer, bareLayer, path } from "./contenders.js"

const port = Number(process.env["PORT"] ?? "3100")
const sqliteFile = process.env["BENCH_SQLITE"] ?? ""
const pgUrl = process.env["BENCH_PG_URL"] ?? ""
const cookieName = "__Host-session"

// The app's headers (`secureCookies: true`), so every contender sends the same bytes.
const headers = { "content-type": "application/json", ...App.securityHeaderValues(true) }

const tokenShape = /^[A-Za-z0-9_-]{43}$/

// Exactly one cookie by that name (two is cookie tossing), non-empty, URI-decoded as the platform's parser does.
const sessionCookie = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined
  let found: string | undefined
  for (const pair of header.split(";")) {
    const at = pair.indexOf("=")
    if (at < 0 || pair.slice(0, at).trim() !== cookieName) continue
    if (found !== undefined) return undefined
    found = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return found === "" ? undefined : found
}

interface Row {
  readonly id: string
  readonly user_id: string
  readonly username: string
  readonly email: string
  readonly verified: number | boolean
  readonly expires_at: number | string
  readonly user_created_at: number | string
}

const isRow = (row: unknown): row is Row => typeof row === "object" && row !== null && "expires_at" in row

const answer = (res: ServerResponse, row: Row | undefined) => {
  if (row === undefined || Number(row.expires_at) <= Date.now()) {
    res.writeHead(401, headers).end(JSON.stringify({ _tag: "InvalidSession", message: "Invalid session" }))
    return
  }
  res.writeHead(200, headers).end(JSON.stringify({
    id: row.user_id,
    username: row.username,
    email: row.email,
    verified: row.verified === 1 || row.verified === true,
    createdAt: new Date(Number(row.user_created_at)).toISOString(),
    sessionExpiresAt: new Date(Number(row.expires_at)).toISOString()
  }))
}

const rawServer = (lookup: (hash: string) => Promise<unknown> | unknown) =>
  createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "GET" || req.url !== path) {
      res.writeHead(404).end()
      return
    }
    const token = sessionCookie(req.headers.cookie)
    if (token === undefined || !tokenShape.test(token)) return answer(res, undefined)
    const row = lookup(hashToken(token))
    if (row instanceof Promise) {
      row.then((r) => answer(res, isRow(r) ? r : undefined), () => res.writeHead(503).end())
    } else answer(res, isRow(row) ? row : undefined)
  }).listen(port, "127.0.0.1")

const app = () =>
  appLayer({
    sqlite: sqliteFile,
    pg: pgUrl,
    cache: process.env["BENCH_CACHE"] === "1",
    channel: process.env["BENCH_CHANNEL"],
    trustedProxies: Number(process.env["BENCH_TRUSTED_PROXIES"] ?? "0"),
    logAll: process.env["BENCH_LOG_ALL"] === "1"
  })

const server = NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" })
const serve = <E>(layer: Layer.Layer<never, E, Layer.Layer.Success<typeof server>>) =>
  NodeRuntime.runMain(Layer.launch(Layer.provide(layer, server)))

const kind = process.argv[2]
if (kind === "raw") {
  const statement = new Database(sqliteFile, { readonly: true }).prepare(`${sessionQuery}?`)
  rawServer((hash) => statement.get(hash))
} else if (kind === "raw-pg") {
  const pool = new pg.Pool({ connectionString: pgUrl, max: 10 })
  rawServer(async (hash) => (await pool.query({ name: "session", text: `${sessionQuery}$1`, values: [hash] })).rows[0])
} else if (kind === "bare") serve(bareLayer)
else if (kind === "app") serve(app())
else throw new Error(`unknown contender ${kind}`)
