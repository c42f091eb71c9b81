/**
 * The app's own settings (the library's are in `UserHarborConfig`).
 */
import * as Context from "effect/Context"

export class AppSettings extends Context.Tag("http-app/AppSettings")<AppSettings, {
  /** The origin the pages are served from (`https://accounts.example.com`); links in emails and the CSRF check
   * use it. */
  readonly origin: string
  /** `Secure` on the session cookie, which is then named `__Host-session`; turn it off only for plain-http
   * development on a host other than localhost (the cookie is then named `session`). Also sends HSTS. */
  readonly secureCookies: boolean
  /** How many reverse proxies in front of the app append to `X-Forwarded-For` (0: none, the header is ignored). */
  readonly trustedProxies: number
  /** The largest request body accepted, in bytes; larger ones get 413 before any of it is read. */
  readonly maxBodyBytes: number
}>() {}
