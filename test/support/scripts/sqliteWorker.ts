/**
 * One process of the SQLite concurrency test: opens the shared database file with its own connection, then runs
 * each command line it reads (JSON) and answers with one JSON line. It prints `ready` once the store is open, so
 * the parent can send a command to every worker at the same moment.
 */
import { Effect, Layer, ManagedRuntime } from "effect"
import { Schema } from "effect"
import { createInterface } from "node:readline"
import * as SqliteUserStore from "../../../src/SqliteUserStore.js"
import { Command, execute, harborOn } from "../harborOn.js"

const decode = Schema.decodeUnknownSync(Schema.parseJson(Command))

const filename = process.argv[2]
if (filename === undefined) throw new Error("usage: sqliteWorker <database file>")

const runtime = ManagedRuntime.make(harborOn(SqliteUserStore.layer({ filename })).pipe(Layer.orDie))
await runtime.runPromise(Effect.void)
process.stdout.write("ready\n")
for await (const line of createInterface({ input: process.stdin })) {
  const command = decode(line)
  process.stdout.write(JSON.stringify(await runtime.runPromise(execute(command))) + "\n")
}
await runtime.dispose()
