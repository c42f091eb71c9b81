/**
 * Finding the account a `user` command is about, by id, username or email address, as the account service
 * itself would (the same canonical keys), and what `user show` says about it.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AccountLockRecord } from "../../AccountAdminStore.js"
import * as Email from "../../Email.js"
import type { StoreError } from "../../Errors.js"
import { UserId } from "../../User.js"
import * as Username from "../../Username.js"
import { type UserRecord, UserStore } from "../../UserStore.js"
import { Refused } from "./exit.js"
import { instant } from "./output.js"

export const lookups = ["auto", "id", "username", "email"] as const
export type Lookup = typeof lookups[number]

const byId = (who: string) => Effect.flatMap(UserStore, (store) => store.findUserById(UserId.make(who)))
const byUsername = (who: string) =>
  Effect.flatMap(UserStore, (store) => store.findUserByUsername(Username.canonical(who)))
const byEmail = (who: string) => Effect.flatMap(UserStore, (store) => store.findUserByEmail(Email.canonical(who)))

const notFound = (who: string, by: Lookup) =>
  new Refused({ message: `no user ${by === "auto" ? "" : `with ${by} `}${JSON.stringify(who)}` })

/**
 * The account `who` names. `auto`: an address when it holds `@`, else an id or a username; when it is one
 * account's id and another's username, it refuses rather than guess (`--by` decides).
 */
export const find = (who: string, by: Lookup): Effect.Effect<UserRecord, Refused | StoreError, UserStore> =>
  Effect.gen(function*() {
    const found = by === "id"
      ? yield* byId(who)
      : by === "username"
      ? yield* byUsername(who)
      : by === "email" || who.includes("@")
      ? yield* byEmail(who)
      : yield* Effect.gen(function*() {
        const [id, name] = [yield* byId(who), yield* byUsername(who)]
        if (Option.isSome(id) && Option.isSome(name) && id.value.id !== name.value.id) {
          return yield* new Refused({
            message: `${JSON.stringify(who)} is one user's id and another's username: pass --by id or --by username`
          })
        }
        return Option.orElse(id, () => name)
      })
    return yield* Option.match(found, { onNone: () => Effect.fail(notFound(who, by)), onSome: Effect.succeed })
  })

/** What `user show` prints: never the password hash, never a token. */
export const summary = (user: UserRecord, sessions: number, lock: Option.Option<AccountLockRecord>) => ({
  id: user.id,
  username: user.username,
  email: user.email,
  verified: user.verified,
  createdAt: instant(user.createdAt),
  sessions,
  lock: Option.getOrNull(
    Option.map(lock, (found) => ({ reason: found.reason, lockedAt: instant(found.lockedAt), actorId: found.actorId }))
  )
})

export const summaryLines = (shown: ReturnType<typeof summary>): ReadonlyArray<string> => [
  `id:        ${shown.id}`,
  `username:  ${shown.username}`,
  `email:     ${shown.email}`,
  `verified:  ${shown.verified ? "yes" : "no"}`,
  `created:   ${shown.createdAt}`,
  `sessions:  ${shown.sessions}`,
  `locked:    ${
    shown.lock === null
      ? "no"
      : `since ${shown.lock.lockedAt} by ${shown.lock.actorId}: ${JSON.stringify(shown.lock.reason)}`
  }`
]
