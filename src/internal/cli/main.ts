/**
 * The operator CLI, `npx userharbor`: the command tree, and the exit code each outcome ends with (docs/cli.md).
 */
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Predicate from "effect/Predicate"
import type { StoreError } from "../../Errors.js"
import { ExitCode, type Refused, type Unavailable, UsageProblem } from "./exit.js"
import { outbox } from "./outbox.js"
import { note } from "./output.js"
import { purge } from "./purge.js"
import { migrate, status } from "./schema.js"
import { user } from "./user.js"

const root = Command.make(
  "userharbor",
  {},
  () => new UsageProblem({ message: "a command is needed: migrate, status, purge, user or outbox (see --help)" })
).pipe(
  Command.withDescription("Operates a UserHarbor database: migrations, purging, accounts, the email outbox."),
  Command.withSubcommands([migrate, status, purge, user, outbox])
)

type Failure = Refused | UsageProblem | Unavailable | StoreError | ValidationError.ValidationError

const codeOf = (failure: Failure): Effect.Effect<number> => {
  // @effect/cli has printed its own message (and the usage) on stderr already.
  if (ValidationError.isValidationError(failure)) return Effect.succeed(ExitCode.usage)
  switch (failure._tag) {
    case "Refused":
      return Effect.as(note(failure.message), ExitCode.refused)
    case "UsageProblem":
      return Effect.as(note(failure.message), ExitCode.usage)
    case "Unavailable":
      return Effect.as(note(failure.message), ExitCode.unavailable)
    case "StoreError":
      // Its message names the operation and what to fix, never the URL, SQL or the driver's own text.
      return Effect.as(note(failure.message), ExitCode.unavailable)
  }
}

/**
 * Runs the command line `argv` (as `process.argv`: node, script, then the arguments) and returns the exit code.
 * Every failure is printed as one line on stderr; a defect (a bug) prints its cause and exits with 3 too.
 */
export const run = (version: string) => (argv: ReadonlyArray<string>) =>
  Command.run(root, { name: "userharbor", version })(argv).pipe(
    Effect.as(ExitCode.ok),
    Effect.catchAll(codeOf),
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.succeed(ExitCode.interrupted)
        : Effect.as(note(`unexpected failure, please report it:\n${Cause.pretty(cause)}`), ExitCode.unavailable)
    )
  )

/** The process exit code of a finished run (`NodeRuntime.runMain`'s teardown). */
export const exitCode = (exit: Exit.Exit<unknown, unknown>): number =>
  Exit.isSuccess(exit)
    ? Predicate.isNumber(exit.value) ? exit.value : ExitCode.unavailable
    : Exit.isInterrupted(exit)
    ? ExitCode.interrupted
    : ExitCode.unavailable
