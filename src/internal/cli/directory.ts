/**
 * `userharbor user list`: one page of the user directory through `UserHarborAdmin.listUsers` (oldest first, keyset
 * paging by an opaque cursor), with its filters. Never the password hash, never a token.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type AdminUser, UserHarborAdmin } from "../../UserHarborAdmin.js"
import { json, url, withAdmin } from "./common.js"
import { UsageProblem } from "./exit.js"
import { instant, result } from "./output.js"

const yesNo = (name: string, description: string) =>
  Options.choice(name, ["yes", "no"]).pipe(Options.optional, Options.withDescription(description))

const filters = {
  verified: yesNo("verified", "Only accounts whose address is verified (yes) or not (no)."),
  locked: yesNo("locked", "Only locked accounts (yes) or unlocked ones (no)."),
  createdAfter: Options.date("created-after").pipe(
    Options.optional,
    Options.withDescription("Only accounts created after this instant (ISO 8601), exclusive.")
  ),
  createdBefore: Options.date("created-before").pipe(
    Options.optional,
    Options.withDescription("Only accounts created before this instant (ISO 8601), exclusive.")
  ),
  limit: Options.integer("limit").pipe(
    Options.withDefault(50),
    Options.withDescription("How many accounts on the page, 1 to 1000.")
  ),
  cursor: Options.text("cursor").pipe(
    Options.optional,
    Options.withDescription("Where to go on: the cursor the previous page printed (keep the same filters).")
  )
}

const flag = (choice: Option.Option<"yes" | "no">) => Option.getOrUndefined(Option.map(choice, (c) => c === "yes"))

const entry = ({ lock, user }: AdminUser) => ({
  id: user.id,
  username: user.username,
  email: user.email,
  verified: user.verified,
  createdAt: instant(user.createdAt.getTime()),
  locked: Option.isSome(lock)
})

const line = (shown: ReturnType<typeof entry>) =>
  `${shown.id}  ${shown.username}  ${shown.email}  ${shown.verified ? "verified" : "unverified"}  ` +
  `${shown.createdAt}${shown.locked ? "  locked" : ""}`

export const list = Command.make("list", { url, json, ...filters }, (options) =>
  withAdmin(
    options.url,
    Effect.gen(function*() {
      const admin = yield* UserHarborAdmin
      const page = yield* admin.listUsers({
        verified: flag(options.verified),
        locked: flag(options.locked),
        createdAfter: Option.getOrUndefined(options.createdAfter),
        createdBefore: Option.getOrUndefined(options.createdBefore),
        limit: options.limit,
        cursor: Option.getOrUndefined(options.cursor)
      }).pipe(Effect.catchTag("InvalidAdminInput", (error) =>
        new UsageProblem({
          message: error.field === "limit"
            ? "--limit must be 1 to 1000"
            : error.field === "cursor"
            ? "--cursor is not a cursor this command printed"
            : `--${error.field === "createdAfter" ? "created-after" : "created-before"} is not a valid instant`
        })))
      const users = page.users.map(entry)
      const nextCursor = Option.getOrNull(page.nextCursor)
      yield* result(options.json, { users, nextCursor }, () => [
        ...users.map(line),
        users.length === 0 ? "no accounts" : `${users.length} account(s)`,
        ...(nextCursor === null ? [] : [`more: --cursor ${nextCursor}`])
      ])
    })
  )).pipe(Command.withDescription(
    "Lists accounts, oldest first, a page at a time (--limit, --cursor), with optional filters. Changes nothing."
  ))
