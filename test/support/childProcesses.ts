/** What the helpers that start and stop processes of their own share (servers, app instances). */
import { Effect, type Scope } from "effect"
import { type ChildProcess, execFile, execFileSync } from "node:child_process"
import { chownSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** Waits until `child` has exited (at once if it already has). */
export const exited = (child: ChildProcess): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

/** Kills `child` (`SIGKILL`, as a crash would) and waits until it is gone. */
export const killed = (child: ChildProcess): Effect.Effect<void> =>
  Effect.zipRight(Effect.sync(() => child.kill("SIGKILL")), exited(child))

/** Runs `command` to its end (at most a minute); fails with its stderr. */
export const run = (command: ReadonlyArray<string>): Effect.Effect<void, Error> =>
  Effect.async<void, Error>((resume) => {
    const [file, ...args] = command
    execFile(
      file ?? "",
      args,
      { timeout: 60_000 },
      (error, _stdout, stderr) =>
        resume(
          error === null ? Effect.void : Effect.fail(new Error(`${command.join(" ")}: ${error.message} ${stderr}`))
        )
    )
  })

/**
 * A temporary directory `<tmp>/<prefix>XXXXXX`, removed with the scope. Running as root, it belongs to `owner` if
 * given: the database servers refuse to run as root, and run as their own user.
 */
export const temporaryDirectory = (prefix: string, owner?: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const created = mkdtempSync(join(tmpdir(), prefix))
      if (owner !== undefined && process.getuid?.() === 0) {
        const id = (flag: string) => Number(execFileSync("id", [flag, owner]).toString().trim())
        chownSync(created, id("-u"), id("-g"))
      }
      return created
    }),
    (created) => Effect.sync(() => rmSync(created, { recursive: true, force: true }))
  )
