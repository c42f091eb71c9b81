/**
 * `userharbor outbox status|retry`: the email outbox seen from the database. Delivery stays the app's
 * `OutboxWorker` job (it holds the SMTP settings and the secret key that opens the sealed messages); `retry`
 * only makes waiting messages due, so the running workers send them on their next poll.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { OutboxStore } from "../../OutboxStore.js"
import { json, url, withStore } from "./common.js"
import { UsageProblem } from "./exit.js"
import { instant, result } from "./output.js"

const status = Command.make("status", { url, json }, (options) =>
  withStore(
    options.url,
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const summary = yield* Effect.flatMap(OutboxStore, (outbox) => outbox.summarizeEmails({ now }))
      const oldest = Option.getOrNull(Option.map(summary.oldestCreatedAt, instant))
      yield* result(options.json, { ...summary, oldestCreatedAt: oldest }, () => [
        `waiting:  ${summary.waiting}`,
        `due:      ${summary.due}`,
        `claimed:  ${summary.claimed}`,
        `failed:   ${summary.failed} (failed at least once, waiting for another attempt)`,
        `oldest:   ${oldest ?? "-"}`
      ])
    })
  )).pipe(Command.withDescription(
    "Counts the messages waiting in the outbox: due now, being sent, failed before, and the oldest one's age."
  ))

const id = Args.text({ name: "id" }).pipe(
  Args.optional,
  Args.withDescription("One message's id; without it, every waiting message.")
)

const retry = Command.make("retry", { url, json, id }, (options) =>
  withStore(
    options.url,
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const retried = yield* Effect.flatMap(
        OutboxStore,
        (outbox) => outbox.retryEmailsNow({ now, id: Option.getOrUndefined(options.id) })
      )
      yield* result(options.json, { retried }, () => [
        `${retried} message(s) due now; the app's outbox workers send them on their next poll`
      ])
    })
  )).pipe(Command.withDescription(
    "Makes waiting messages due now (after fixing the mail server), instead of waiting for their backoff. " +
      "Messages being sent are left alone; the app's workers deliver."
  ))

export const outbox = Command.make(
  "outbox",
  {},
  () => new UsageProblem({ message: "outbox needs a subcommand: status or retry (see --help)" })
).pipe(
  Command.withDescription("The email outbox of outbox mode (UserHarbor.layerOutbox)."),
  Command.withSubcommands([status, retry])
)
