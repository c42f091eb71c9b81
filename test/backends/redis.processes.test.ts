/**
 * Exact counters across app instances that are real processes: 200 concurrent logins with wrong passwords for one
 * account, spread over 3 processes that share the accounts (a SQLite file) and the counters (Redis). Exactly the
 * configured number of guesses is checked against the account (`InvalidCredentials`); every other answer is
 * `TooManyAttempts`, as within one process.
 */
import { expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { afterAll } from "vitest"
import * as RedisClient from "../../src/RedisClient.js"
import * as RedisCounterStore from "../../src/RedisCounterStore.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { alice, registerVerified } from "../support/fixtures.js"
import { describeRedis, testPrefix } from "../support/redisServer.js"

const dir = mkdtempSync(join(tmpdir(), "userharbor-redis-processes-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A worker process; `ask` sends one line and resolves with its answer. */
const worker = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const script = join(import.meta.dirname, "..", "support", "scripts", "redisLoginWorker.ts")
      const child = spawn(process.execPath, ["--import", "tsx", script, ...args])
      child.stderr.pipe(process.stderr)
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
      // The worker's logs share its stdout: only `ready` and `result ...` lines are answers.
      const next = async (): Promise<string> => {
        const line = String((await lines.next()).value)
        return line === "ready" ? line : line.startsWith("result ") ? line.slice("result ".length) : next()
      }
      expect(await next()).toBe("ready")
      return { child, ask: (line: string) => (child.stdin.write(`${line}\n`), next()) }
    }),
    ({ child }) => Effect.sync(() => child.kill())
  )

describeRedis("counters across processes", (url) => {
  it.live(
    "200 concurrent wrong logins for one account over 3 processes: exactly 5 checked",
    () =>
      Effect.gen(function*() {
        const filename = join(dir, "accounts.db")
        const prefix = yield* testPrefix(url)
        const store = RedisCounterStore.layer({ prefix }).pipe(
          Layer.provide(RedisClient.layer({ url: Redacted.make(url) })),
          Layer.provideMerge(SqliteUserStore.layer({ filename }))
        )
        yield* Effect.scoped(Effect.flatMap(
          Layer.build(UserHarborTest.layerWithStore(store)),
          (context) => Effect.provide(registerVerified(alice), context)
        ))
        const workers = yield* Effect.all([0, 1, 2].map(() => worker([filename, url, prefix])), {
          concurrency: "unbounded"
        })
        // Every request goes out before any answer is read.
        const answers = yield* Effect.promise(() =>
          Promise.all(workers.map((w, i) => w.ask(`${i === 2 ? 66 : 67} ${alice.username}`)))
        )
        const total: Record<string, number> = {}
        for (const answer of answers) {
          for (const [outcome, n] of Object.entries(JSON.parse(answer) as Record<string, number>)) {
            total[outcome] = (total[outcome] ?? 0) + n
          }
        }
        console.log(
          `200 wrong logins over 3 processes, Redis counters: ${answers.join(" ")} -> ${JSON.stringify(total)}`
        )
        expect(total).toEqual({ InvalidCredentials: 5, TooManyAttempts: 195 })
      }).pipe(Effect.scoped),
    120_000
  )
})
