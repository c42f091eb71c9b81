/**
 * The operator CLI's outcomes. Scripts branch on the exit code alone, so each failure is one of three kinds, and
 * its message (one line, on stderr) says what to do.
 */
import * as Data from "effect/Data"

/** Exit codes: documented in docs/cli.md, relied upon by scripts; never renumber. */
export const ExitCode = {
  ok: 0,
  /** The store answered, and the answer is no: no such user, pending migrations with `status --check`. */
  refused: 1,
  /** The command line or the settings are wrong: unknown command, bad option, no database configured. */
  usage: 2,
  /** The database or the environment failed: unreachable server, missing driver, schema not migrated. */
  unavailable: 3,
  /** Stopped by SIGINT or SIGTERM. */
  interrupted: 130
} as const

/** A domain refusal (exit 1). */
export class Refused extends Data.TaggedError("Refused")<{ readonly message: string }> {}

/** A usage error found after parsing (exit 2): `@effect/cli` reports its own before any command runs. */
export class UsageProblem extends Data.TaggedError("UsageProblem")<{ readonly message: string }> {}

/** The database or the installation cannot serve the command (exit 3). */
export class Unavailable extends Data.TaggedError("Unavailable")<{ readonly message: string }> {}
