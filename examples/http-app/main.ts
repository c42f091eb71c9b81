/**
 * Runs the example: `npm run example:http`, then open http://127.0.0.1:3000.
 *
 * Environment:
 * - `PORT` (default 3000); the server listens on 127.0.0.1 only.
 * - `APP_ORIGIN`: the origin users open, if not `http://127.0.0.1:<PORT>` (links in emails and the CSRF check).
 * - `COOKIE_SECURE` (default `true`): the session cookie is `__Host-session`, `Secure`, and every response carries
 *   HSTS. `false` is for plain http on another host than localhost only (browsers accept `Secure` cookies from
 *   http://127.0.0.1 and http://localhost): the cookie is then `session`, without `Secure`, and there is no HSTS.
 * - `TRUSTED_PROXIES` (default 0): how many reverse proxies in front of the app append to `X-Forwarded-For`;
 *   login throttling takes the client's address from that header only when this is set (see `Handlers.ts`).
 * - `LOG_REQUESTS`: `failures` (default) logs the requests answered with a status of 400 or more; `all` logs every
 *   request (a line per request costs more CPU than an authenticated request itself: docs/performance.md).
 * - `USERHARBOR_SQLITE_FILENAME` (default `.data/http-app.db`): the SQLite database, created and migrated at start.
 * - `EMAIL`: `console` (default) prints emails; `smtp` sends them with the `USERHARBOR_SMTP_*` settings (see
 *   `SmtpEmailSender.fromEnv`).
 * - `DELIVERY`: `outbox` (default: emails go through the transactional outbox and a background worker) or
 *   `inline` (sent during the request).
 * - `PASSKEY_RP_ID` (default: the origin's host): the passkeys' relying party, the origin's host or a parent domain
 *   of it. Passkeys need the app on a host name, not an IP address: `APP_ORIGIN=http://localhost:3000`, then open
 *   http://localhost:3000 (on http://127.0.0.1 the app runs without them). Their only origin is the app's.
 * - `USERHARBOR_TOTP_ISSUER` (default `UserHarbor`): the name authenticator apps show with the account.
 * - `USERHARBOR_SECRET_KEY` and the other `USERHARBOR_*` settings (see `UserHarborConfig.fromEnv`); without a
 *   key, a random one is made at start, so sessions and links end with the process.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { mkdirSync } from "node:fs"
import { createServer } from "node:http"
import { dirname } from "node:path"
import * as Argon2Hasher from "../../src/Argon2Hasher.js"
import * as SecureRandom from "../../src/SecureRandom.js"
import * as SessionCache from "../../src/SessionCache.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import * as App from "./App.js"
import { passkeyOptions } from "./FactorHandlers.js"
import * as Mailer from "./Mailer.js"

const userHarborConfig = (origin: string) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const rpId = yield* Config.option(Config.string("PASSKEY_RP_ID"))
    const passkeys = passkeyOptions(origin, { rpId: Option.getOrUndefined(rpId), rpName: "UserHarbor example" })
    if (passkeys === undefined) {
      yield* Effect.logWarning(
        `Passkeys are off: ${origin} is on an IP address; open the app on a host name ` +
          "(APP_ORIGIN=http://localhost:3000) to use them"
      )
    }
    const withPasskeys = (options: UserHarborConfig.Options): UserHarborConfig.Options =>
      passkeys === undefined ? options : { ...options, passkeys }
    const configured = yield* Config.option(Config.redacted("USERHARBOR_SECRET_KEY"))
    if (Option.isSome(configured)) {
      return UserHarborConfig.layerConfig(Config.map(UserHarborConfig.fromEnv, withPasskeys))
    }
    yield* Effect.logWarning("USERHARBOR_SECRET_KEY is not set: using a random key for this run")
    const bytes = yield* SecureRandom.make.nextBytes(32)
    return UserHarborConfig.layer(withPasskeys({ secretKey: Redacted.make(Buffer.from(bytes).toString("base64url")) }))
  }))

const main = Layer.unwrapEffect(Effect.gen(function*() {
  const port = yield* Config.port("PORT").pipe(Config.withDefault(3000))
  const origin = yield* Config.option(Config.string("APP_ORIGIN"))
  const secureCookies = yield* Config.boolean("COOKIE_SECURE").pipe(Config.withDefault(true))
  const trustedProxies = yield* Config.integer("TRUSTED_PROXIES").pipe(
    Config.validate({ message: "must be 0 or more", validation: (n) => n >= 0 }),
    Config.withDefault(0)
  )
  const filename = yield* Config.string("USERHARBOR_SQLITE_FILENAME").pipe(Config.withDefault(".data/http-app.db"))
  mkdirSync(dirname(filename), { recursive: true })
  const email = yield* Config.literal("console", "smtp")("EMAIL").pipe(Config.withDefault("console" as const))
  const delivery = yield* Config.literal("outbox", "inline")("DELIVERY").pipe(Config.withDefault("outbox" as const))
  const logRequests = yield* Config.literal("all", "failures")("LOG_REQUESTS").pipe(
    Config.withDefault("failures" as const)
  )
  return App.layer({
    // With the session cache: on a SQLite file it drops what it holds whenever the file changes (this app's writes,
    // the operator CLI's, a script's), so it is exact, and a session check is a map read (docs/performance.md).
    store: SessionCache.layer().pipe(Layer.provideMerge(SqliteUserStore.layer({ filename }))),
    sender: email === "smtp" ? Mailer.layerSmtp : Mailer.layerConsole,
    hasher: Argon2Hasher.layer(),
    // The origin the app would derive from its address (see `App.Options.origin`), known here for the passkeys.
    config: userHarborConfig(Option.getOrElse(origin, () => `http://127.0.0.1:${port}`)),
    delivery,
    origin: Option.getOrUndefined(origin),
    secureCookies,
    trustedProxies,
    logRequests
  }).pipe(
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" }))
  )
}))

NodeRuntime.runMain(Layer.launch(main))
