/**
 * `userharbor user show|lock|unlock|end-sessions|delete`.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import { UserStore } from "../../UserStore.js"
import { json, url, withStore } from "./common.js"
import { UsageProblem } from "./exit.js"
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

const show = Command.make("show", { url, json, who, by }, (options) =>
  withStore(
    options.url,
    Effect.gen(function*() {
      const user = yield* Users.find(options.who, options.by)
      const sessions = yield* Effect.flatMap(UserStore, (store) => store.listUserSessions(user.id))
      const shown = Users.summary(user, sessions.length)
      yield* result(options.json, shown, () => Users.summaryLines(shown))
    })
  )).pipe(Command.withDescription("Shows an account: id, username, address, verified, created, live sessions."))

export const user = Command.make(
  "user",
  {},
  () =>
    new UsageProblem({ message: "user needs a subcommand: show, lock, unlock, end-sessions or delete (see --help)" })
)
  .pipe(
    Command.withDescription("Looks up and administers one account."),
    Command.withSubcommands([show])
  )
