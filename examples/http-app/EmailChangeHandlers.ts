/**
 * The implementation of the `emailChange` group. Like `Handlers.ts`, each handler is one call to `UserHarbor`; a
 * revert ends every session, so it also clears this browser's cookie.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { HttpSession } from "../../src/http.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import { Api } from "./Api.js"
import { clearSessionCookie } from "./Handlers.js"

export const EmailChangeLive = HttpApiBuilder.group(Api, "emailChange", (handlers) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor
    return handlers
      .handle("requestEmailChange", ({ payload }) =>
        Effect.flatMap(HttpSession.CurrentSession, ({ token }) =>
          harbor.requestEmailChange({ sessionToken: token, ...payload })))
      .handle("pendingEmailChange", () =>
        Effect.flatMap(HttpSession.CurrentSession, ({ token }) =>
          Effect.map(harbor.pendingEmailChange(token), Option.getOrNull)))
      .handle("confirmEmailChange", ({ payload }) =>
        harbor.confirmEmailChange(payload.token))
      .handle("revertEmailChange", ({ payload }) =>
        Effect.zipRight(harbor.revertEmailChange(payload.token), clearSessionCookie))
  }))
