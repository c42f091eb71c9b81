/**
 * The HTML pages and their one script and stylesheet, served from `public/` by the same router as the API.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import { fileURLToPath } from "node:url"

const publicDir = fileURLToPath(new URL("./public/", import.meta.url))

const pages = [
  "sign-up",
  "sign-in",
  "account",
  "settings",
  "verify",
  "forgot-password",
  "reset",
  "confirm-email",
  "revert-email"
]
const assets = ["app.js", "webauthn.js", "style.css"]

export const PagesLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    yield* router.get("/", HttpServerResponse.empty({ status: 302, headers: { location: "/account" } }))
    for (const page of pages) {
      yield* router.get(`/${page}`, Effect.orDie(HttpServerResponse.file(`${publicDir}${page}.html`)))
    }
    for (const asset of assets) {
      yield* router.get(`/${asset}`, Effect.orDie(HttpServerResponse.file(`${publicDir}${asset}`)))
    }
  })
)
