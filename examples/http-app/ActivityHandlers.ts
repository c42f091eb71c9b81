/**
 * The implementation of the `activity` group: the signed-in user's recent security events, each as one line a
 * person can read.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { HttpSession } from "../../src/http.js"
import type * as SecurityEvent from "../../src/SecurityEvent.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import { Api } from "./Api.js"

const failures = {
  "wrong-password": "Failed sign-in: wrong password",
  unverified: "Sign-in before the address was confirmed",
  locked: "Sign-in to a locked account",
  "second-factor": "Failed sign-in: wrong code"
} as const

const signedOut = (scope: SecurityEvent.SessionRevoked["scope"], count: number): string => {
  switch (scope) {
    case "logout":
      return "Signed out"
    case "session":
      return "Signed out a device"
    case "other-sessions":
      return count === 1 ? "Signed out 1 other device" : `Signed out ${count} other devices`
    case "all-sessions":
      return "Signed out everywhere"
  }
}

/** What the account page shows for an event; the type's name for kinds this page does not know. */
export const describeEvent = (event: SecurityEvent.SecurityEvent): string => {
  switch (event._tag) {
    case "Registered":
      return "Account created"
    case "RegistrationAttempted":
      return "Someone tried to sign up with your address"
    case "EmailVerified":
      return "Email address confirmed"
    case "LoginSucceeded":
      return event.method === "password"
        ? "Signed in"
        : event.method === "passkey"
        ? "Signed in with a passkey"
        : "Signed in with a second factor"
    case "LoginFailed":
      return failures[event.reason]
    case "Throttled":
      return "Too many attempts: paused for a while"
    case "PasswordChanged":
      return "Password changed"
    case "PasswordReset":
      return "Password reset by email"
    case "SessionRevoked":
      return signedOut(event.scope, event.count)
    case "SecondFactorEnabled":
      return "Two-step verification turned on"
    case "SecondFactorDisabled":
      return "Two-step verification turned off"
    case "RecoveryCodesRegenerated":
      return "New recovery codes"
    case "PasskeyAdded":
      return `Passkey "${event.name}" added`
    case "PasskeyRemoved":
      return "Passkey removed"
    default:
      return event._tag
  }
}

export const ActivityLive = HttpApiBuilder.group(Api, "activity", (handlers) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor
    return handlers.handle("recentActivity", () =>
      Effect.flatMap(HttpSession.CurrentSession, ({ token }) =>
        Effect.map(harbor.recentActivity(token, { limit: 20 }), (events) =>
          events.map((event) => ({
            id: event.id,
            type: event._tag,
            at: event.at,
            description: describeEvent(event),
            clientKey: Option.getOrUndefined(event.clientKey)
          })))))
  }))
