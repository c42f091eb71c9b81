/**
 * The HTTP benchmark's Effect contenders as layers on any `HttpServer`: `bench/http/server.ts` serves them on
 * `node:http`, `bench/http/inprocess.ts` runs them without sockets.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import { Effect, Layer, Redacted } from "effect"
import { Account } from "../../examples/http-app/Api.js"
import * as App from "../../examples/http-app/App.js"
import * as Mailer from "../../examples/http-app/Mailer.js"
import * as Argon2Hasher from "../../src/Argon2Hasher.js"
import * as PgSessionInvalidation from "../../src/PgSessionInvalidation.js"
import * as PgUserStore from "../../src/PgUserStore.js"
import * as SessionCache from "../../src/SessionCache.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import { secretKey } from "../fixtures.js"

export const path = "/api/accounts/me"

// The same JSON as the app's answer, through the same schema, from a constant.
const BareApi = HttpApi.make("bare").add(
  HttpApiGroup.make("accounts").add(HttpApiEndpoint.get("me", path).addSuccess(Account))
)
const account = {
  id: "u0000000000000000000000000000001",
  username: "user1",
  email: "user1@bench.example",
  verified: true,
  createdAt: new Date(1_760_000_000_000),
  sessionExpiresAt: new Date(1_762_592_000_000)
}

/** An `HttpApi` endpoint answering the same JSON with no authentication, no middleware. */
export const bareLayer = HttpApiBuilder.serve().pipe(
  Layer.provide(
    HttpApiBuilder.api(BareApi).pipe(
      Layer.provide(
        HttpApiBuilder.group(BareApi, "accounts", (handlers) => handlers.handle("me", () => Effect.succeed(account)))
      )
    )
  )
)

/**
 * The example app with its real wiring, on a seeded SQLite file or a seeded PostgreSQL schema. With `channel` (on
 * PostgreSQL), the cache is `SessionCache.layerShared` over `PgSessionInvalidation` on that channel, as several
 * instances of an app need it (`bench/faults.ts http`); `trustedProxies` is the app's option of that name.
 */
export const appLayer = (options: {
  readonly sqlite?: string | undefined
  readonly pg?: string | undefined
  readonly cache: boolean
  readonly channel?: string | undefined
  readonly trustedProxies?: number | undefined
  readonly logAll?: boolean | undefined
}) => {
  const url = Redacted.make(options.pg ?? "")
  const onPg = options.pg !== undefined && options.pg !== ""
  const pgStore = PgUserStore.layer({ url })
  const store = onPg ? pgStore : SqliteUserStore.layer({ filename: options.sqlite ?? "" })
  const cached = onPg && options.channel !== undefined && options.channel !== ""
    ? SessionCache.layerShared().pipe(
      Layer.provideMerge(PgSessionInvalidation.layer({ url, channel: options.channel })),
      Layer.provideMerge(pgStore)
    )
    : SessionCache.layer().pipe(Layer.provideMerge(store))
  return App.layer({
    store: options.cache ? cached : store,
    sender: Mailer.layerConsole,
    hasher: Argon2Hasher.layer(),
    config: UserHarborConfig.layer({ secretKey }),
    secureCookies: true,
    trustedProxies: options.trustedProxies,
    logRequests: options.logAll === true ? "all" : "failures"
  })
}
