// Runs the compiled consumer (out/consumer.js) on a SQLite file in a fresh temporary directory.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { main } from "./out/consumer.js"

const dir = mkdtempSync(join(tmpdir(), "userharbor-consumer-db-"))
try {
  const started = Date.now()
  const username = await main(join(dir, "users.db"))
  if (username !== "jane") throw new Error(`validateSession returned ${username}, not jane`)
  console.log(`register -> verifyEmail -> login -> validateSession on SQLite: ok (${Date.now() - started} ms)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
