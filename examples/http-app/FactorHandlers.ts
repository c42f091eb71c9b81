/**
 * The implementation of the `factors` and `passkeys` groups: TOTP enrolment with its QR code, the second step of a
 * password login, and the passkey ceremonies. Like `Handlers.ts`, each handler is one call to `UserHarbor`; signing
 * in ends with `startSession`, as a password login does.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { isIP } from "node:net"
import QRCode from "qrcode"
import { HttpSession } from "../../src/http.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import { type PasskeyOptions, UserHarborConfig } from "../../src/UserHarborConfig.js"
import { Api, PasskeysOff } from "./Api.js"
import { AppSettings } from "./AppSettings.js"
import { clientDetails, startSession } from "./Handlers.js"

/**
 * The `otpauth://` URI as an SVG QR code. The page inserts the markup itself: the CSP allows images from this
 * origin only, so a `data:` URL would not load. Error correction M (15 %), the level authenticator apps expect.
 */
export const qrSvg = (uri: string): Effect.Effect<string> =>
  Effect.promise(() => QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 }))

/**
 * The library's passkey options for an app served from one origin: the relying party is the origin's host unless
 * `rpId` names a parent domain of it. `undefined` for an origin on an IP address (`http://127.0.0.1:3000`), which
 * WebAuthn does not accept as a relying party: open the app on a name (`http://localhost:3000`) to use passkeys.
 */
export const passkeyOptions = (
  origin: string,
  options: { readonly rpId?: string | undefined; readonly rpName: string }
): PasskeyOptions | undefined => {
  const host = new URL(origin).hostname
  if (isIP(host.replace(/^\[|\]$/g, "")) !== 0) return undefined
  return { rpId: options.rpId ?? host, rpName: options.rpName, origins: [origin] }
}

const revealAll = (codes: ReadonlyArray<Redacted.Redacted<string>>) => ({ recoveryCodes: codes.map(Redacted.value) })

export const FactorsLive = HttpApiBuilder.group(Api, "factors", (handlers) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor
    return handlers
      .handle("listFactors", () => Effect.flatMap(HttpSession.CurrentSession, ({ token }) => harbor.listFactors(token)))
      .handle("beginTotp", ({ payload }) =>
        Effect.gen(function*() {
          const { token } = yield* HttpSession.CurrentSession
          const { secret, uri } = yield* harbor.beginTotpEnrollment({ sessionToken: token, password: payload.password })
          // The secret leaves the server here, once, to the signed-in user (the answer is `no-store`).
          return { secret: Redacted.value(secret), uri: Redacted.value(uri), qrSvg: yield* qrSvg(Redacted.value(uri)) }
        }))
      .handle("confirmTotp", ({ payload }) =>
        Effect.flatMap(
          HttpSession.CurrentSession,
          ({ token }) =>
            Effect.map(harbor.confirmTotpEnrollment({ sessionToken: token, code: payload.code }), revealAll)
        ))
      .handle("disableTotp", ({ payload }) =>
        Effect.flatMap(HttpSession.CurrentSession, ({ token }) =>
          harbor.disableTotp({ sessionToken: token, ...payload })))
      .handle("regenerateRecoveryCodes", ({ payload }) =>
        Effect.flatMap(
          HttpSession.CurrentSession,
          ({ token }) =>
            Effect.map(harbor.regenerateRecoveryCodes({ sessionToken: token, password: payload.password }), revealAll)
        ))
      .handle("completeLogin", ({ payload, request }) =>
        Effect.flatMap(AppSettings, ({ trustedProxies }) =>
          Effect.flatMap(
            harbor.completeLogin({ ...payload, client: clientDetails(request, trustedProxies) }),
            (session) =>
              startSession(request, session)
          )))
  }))

export const PasskeysLive = HttpApiBuilder.group(Api, "passkeys", (handlers) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor
    // Without the config the library's passkey operations die (a wiring mistake); here it is a setting of the
    // server, which the pages can show.
    const on = (yield* UserHarborConfig).passkeys !== undefined
    const whenOn = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | PasskeysOff, R> =>
      on ? self : new PasskeysOff({ message: "Passkeys are not enabled on this server" })
    const forUser = <A, E>(operation: (token: Redacted.Redacted<string>) => Effect.Effect<A, E>) =>
      whenOn(Effect.flatMap(HttpSession.CurrentSession, ({ token }) => operation(token)))
    return handlers
      .handle("registrationOptions", () => forUser(harbor.beginPasskeyRegistration))
      .handle("addPasskey", ({ payload }) =>
        forUser((token) => harbor.finishPasskeyRegistration({ sessionToken: token, ...payload })))
      .handle("listPasskeys", () =>
        forUser(harbor.listPasskeys))
      .handle("renamePasskey", ({ path, payload }) =>
        forUser((token) =>
          harbor.renamePasskey(token, path.id, payload.name)
        ))
      .handle("removePasskey", ({ path }) => forUser((token) => harbor.removePasskey(token, path.id)))
      .handle("signInOptions", () => whenOn(harbor.beginPasskeyLogin()))
      .handle("signIn", ({ payload, request }) =>
        whenOn(Effect.flatMap(AppSettings, ({ trustedProxies }) =>
          Effect.flatMap(
            harbor.finishPasskeyLogin(payload.response, clientDetails(request, trustedProxies)),
            (session) =>
              startSession(request, session)
          ))))
  }))
