/**
 * `userharbor user list|show|lock|unlock|end-sessions|mark-verified|clear-throttle|delete`. The changes go through `UserHarborAdmin`, so they are
 * checked, run in one transaction with their security events and recorded with the acting admin's id (`--actor`),
 * as an app's admin page would do them.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { userInfo } from "node:os"
import { AccountAdminStore } from "../../AccountAdminStore.js"
import type { InvalidAdminInput, StoreError, UserNotFound } from "../../Errors.js"
import { UserHarborAdmin, type UserHarborAdminService } from "../../UserHarborAdmin.js"
import { type UserRecord, UserStore } from "../../UserStore.js"
import { json, url, withAdmin, withStore } from "./common.js"
import * as Directory from "./directory.js"
import { Refused, UsageProblem } from "./exit.js"
import { result } from "./output.js"
import * as Users from "./users.js"

const who = Args.text({ name: "user" }).pipe(
  Args.withDescription("The account: its id, its username or its email address.")
)

const by = Options.choice("by", Users.lookups).pipe(
  Options.withDefault("auto"),
  Options.withDescription(
    "How to read <user>: auto (an email address when it holds @, else an id or a username), id, username, email."
  )
)

// Whoever runs the command, unless the operator names themselves as the app names its admins.
const defaultActor = (): string => {
  try {
    return `cli:${userInfo().username}`
  } catch {
    return "cli"
  }
}

const actor = Options.text("actor").pipe(
  Options.optional,
  Options.withDescription("The acting admin's id, recorded with the change. Default: cli:<your login name>.")
)

const show = Command.make("show", { url, json, who, by }, (options) =>
  withStore(
    options.url,
    Effect.gen(function*() {
      const user = yield* Users.find(options.who, options.by)
      const sessions = yield* Effect.flatMap(UserStore, (store) => store.listUserSessions(user.id))
      const lock = yield* Effect.flatMap(AccountAdminStore, (admin) => admin.findLock(user.id))
      const shown = Users.summary(user, sessions.length, lock)
      yield* result(options.json, shown, () => Users.summaryLines(shown))
    })
  )).pipe(Command.withDescription(
    "Shows an account: id, username, address, verified, created, live sessions, lock. Changes nothing."
  ))

interface ChangeOptions {
  readonly url: Option.Option<Redacted.Redacted>
  readonly json: boolean
  readonly who: string
  readonly by: Users.Lookup
  readonly actor: Option.Option<string>
}

/**
 * An administrative change to the account `who` names, and its report (a JSON document and a line of text); the
 * admin's own refusals become exit codes.
 */
const change = <A>(
  options: ChangeOptions,
  apply: (
    admin: UserHarborAdminService,
    input: { readonly userId: string; readonly actorId: string }
  ) => Effect.Effect<A, UserNotFound | InvalidAdminInput | StoreError>,
  report: (value: A, user: UserRecord) => readonly [document: object, line: string]
) =>
  withAdmin(
    options.url,
    Effect.gen(function*() {
      const user = yield* Users.find(options.who, options.by)
      const admin = yield* UserHarborAdmin
      const value = yield* apply(admin, { userId: user.id, actorId: Option.getOrElse(options.actor, defaultActor) })
        .pipe(
          Effect.catchTags({
            // Deleted between the look-up and the change.
            UserNotFound: () => new Refused({ message: `no user ${JSON.stringify(options.who)}` }),
            InvalidAdminInput: (error) =>
              new UsageProblem({
                message: error.field === "actorId"
                  ? "--actor must be 1 to 200 characters"
                  : error.field === "reason"
                  ? "--reason must be 1 to 500 characters"
                  : error.message
              })
          })
        )
      const [document, line] = report(value, user)
      yield* result(options.json, { userId: user.id, ...document }, () => [line])
    })
  )

const label = (user: UserRecord) => `${user.username} (${user.id})`

const reason = Options.text("reason").pipe(
  Options.withDescription("Why, in your words (1 to 500 characters); shown to admins, never to the user.")
)

const lock = Command.make(
  "lock",
  { url, json, who, by, actor, reason },
  (options) =>
    change(options, (admin, input) => admin.lock({ ...input, reason: options.reason }), (changed, user) => [
      { locked: true, changed },
      changed ? `locked ${label(user)}; its sessions ended` : `${label(user)} was locked already`
    ])
).pipe(Command.withDescription(
  "Locks the account: it can no longer log in, and its sessions end at once. Locked already: exit 0, unchanged."
))

const unlock = Command.make(
  "unlock",
  { url, json, who, by, actor },
  (options) =>
    change(options, (admin, input) => admin.unlock(input), (changed, user) => [
      { locked: false, changed },
      changed ? `unlocked ${label(user)}` : `${label(user)} was not locked`
    ])
).pipe(Command.withDescription("Lifts the account's lock. Not locked: exit 0, unchanged."))

const endSessions = Command.make(
  "end-sessions",
  { url, json, who, by, actor },
  (options) =>
    change(options, (admin, input) => admin.endSessions(input), (ended, user) => [
      { ended },
      `ended ${ended} session(s) of ${label(user)}`
    ])
).pipe(Command.withDescription("Ends every session of the account (signs it out everywhere)."))

const markVerified = Command.make(
  "mark-verified",
  { url, json, who, by, actor },
  (options) =>
    change(options, (admin, input) => admin.markVerified(input), (changed, user) => [
      { verified: true, changed },
      changed ? `marked ${label(user)}'s address verified` : `${label(user)}'s address was verified already`
    ])
).pipe(Command.withDescription(
  "Marks the account's address verified (after checking it yourself); no mail is sent. Verified already: exit 0."
))

const clearThrottle = Command.make(
  "clear-throttle",
  { url, json, who, by, actor },
  (options) =>
    change(options, (admin, input) => admin.clearThrottle(input), (_, user) => [
      { cleared: true },
      `cleared the login throttling of ${label(user)}`
    ])
).pipe(Command.withDescription(
  "Clears the account's failed-login and re-check counters, so its owner can try again at once."
))

const yes = Options.boolean("yes").pipe(
  Options.withDescription("Confirms the deletion; without it, nothing is deleted (exit 2).")
)

const remove = Command.make("delete", { url, json, who, by, actor, yes }, (options) =>
  options.yes
    ? change(options, (admin, input) => admin.deleteUser(input), (_, user) => [
      { deleted: true },
      `deleted ${label(user)}`
    ])
    : new UsageProblem({ message: "delete removes the account for good: add --yes to confirm" })).pipe(
    Command.withDescription(
      "Deletes the account with its sessions, tokens, factors and lock; no mail is sent. Needs --yes."
    )
  )

export const user = Command.make(
  "user",
  {},
  () =>
    new UsageProblem({
      message:
        "user needs a subcommand: list, show, lock, unlock, end-sessions, mark-verified, clear-throttle or delete " +
        "(see --help)"
    })
)
  .pipe(
    Command.withDescription("Lists, looks up and administers accounts."),
    Command.withSubcommands([Directory.list, show, lock, unlock, endSessions, markVerified, clearThrottle, remove])
  )
