/**
 * `userharbor migrate` and `userharbor status`.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import { json, url, withClient } from "./common.js"
import { Refused } from "./exit.js"
import * as Migrations from "./migrations.js"
import { note, result } from "./output.js"

const named = ({ id, name }: Migrations.Migration) => `${String(id).padStart(4, "0")}_${name}`

export const migrate = Command.make("migrate", { url, json }, ({ json, url }) =>
  withClient(
    url,
    Effect.gen(function*() {
      const ran = yield* Migrations.migrate
      yield* result(
        json,
        { ran },
        () => ran.length === 0 ? ["the schema is current: nothing to run"] : ran.map((m) => `ran ${named(m)}`)
      )
    })
  )).pipe(Command.withDescription(
    "Runs the pending migrations (in one transaction on PostgreSQL and SQLite). Running it again does nothing."
  ))

const check = Options.boolean("check").pipe(
  Options.withDescription("Exit with 1 when a migration is pending (for a deploy script's gate).")
)

export const status = Command.make("status", { url, json, check }, ({ check, json, url }) =>
  withClient(
    url,
    Effect.gen(function*() {
      const current = yield* Migrations.status
      yield* result(json, current, () => [
        ...current.applied.map((m) => `applied  ${named(m)}${m.appliedAt === null ? "" : `  ${m.appliedAt}`}`),
        ...current.pending.map((m) => `pending  ${named(m)}`),
        ...current.unknown.map((m) => `unknown  ${named(m)} (recorded by a newer UserHarbor)`),
        current.pending.length === 0 ? "up to date" : `${current.pending.length} pending: run userharbor migrate`
      ])
      if (current.unknown.length > 0) yield* note("the database was migrated by a newer UserHarbor")
      if (check && current.pending.length > 0) {
        return yield* new Refused({ message: `${current.pending.length} migration(s) pending` })
      }
    })
  )).pipe(Command.withDescription("Lists the applied and the pending migrations; changes nothing."))
