#!/usr/bin/env node
/**
 * The `userharbor` binary (`npx userharbor --help`): the operator CLI of docs/cli.md. Only wiring: it checks that
 * the CLI's optional peers are installed (a library user needs none of them), then runs the command line and
 * exits with the command's code.
 *
 * @since 0.3.0
 */
import { readFileSync } from "node:fs"

// Optional peers of `userharbor`, needed by the CLI alone; the database drivers are checked per command.
const peers = ["@effect/cli", "@effect/platform-node", "@effect/sql"]
const missing = peers.filter((name) => {
  try {
    import.meta.resolve(name)
    return false
  } catch {
    return true
  }
})
if (missing.length > 0) {
  console.error(
    `userharbor: the CLI needs ${missing.join(", ")}, which ${missing.length === 1 ? "is" : "are"} not installed; ` +
      "install them next to userharbor: npm install @effect/cli@^0.77 @effect/platform-node@^0.108 @effect/sql@^0.52"
  )
  process.exit(3)
}

const manifest: unknown = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
const version = typeof manifest === "object" && manifest !== null && "version" in manifest &&
    typeof manifest.version === "string"
  ? manifest.version
  : "unknown"

const [NodeContext, NodeRuntime, Effect, Cli] = await Promise.all([
  import("@effect/platform-node/NodeContext"),
  import("@effect/platform-node/NodeRuntime"),
  import("effect/Effect"),
  import("./internal/cli/main.js")
])

NodeRuntime.runMain(Cli.run(version)(process.argv).pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => onExit(Cli.exitCode(exit))
})
