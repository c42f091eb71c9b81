/**
 * PostgreSQL's session fast path under concurrency: look-ups that wait for a free slot go out together as one
 * query, and each gets exactly the answer it would get alone (the client path's); one interrupted while waiting
 * is not sent; a failed query fails each of its look-ups with `StoreError`, never another look-up's answer.
 */
import { assert, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Option, Predicate, Redacted } from "effect"
import pg from "pg"
import { vi } from "vitest"
import * as PgSessionReader from "../../../src/internal/pgSessionReader.js"
import { sessionBatchQuery } from "../../../src/internal/sessionRow.js"
import * as PgUserStore from "../../../src/PgUserStore.js"
import { TokenHash, UserStore } from "../../../src/UserStore.js"
import { describeOn, pgSchema } from "../../support/sqlDatabases.js"
import { session, userRecord } from "../../support/storeRecords.js"

const pool = (url: string) =>
  Effect.acquireRelease(
    Effect.sync(() => new pg.Pool({ connectionString: url, max: 4 })),
    (opened) => Effect.promise(() => opened.end())
  )

// A migrated schema with three users, two sessions each, one of them deleted; its store and a pool on it.
const seeded = (url: string) =>
  Effect.gen(function*() {
    const scoped = yield* pgSchema(url)
    const store = Context.get(yield* Layer.build(PgUserStore.layer({ url: Redacted.make(scoped) })), UserStore)
    const live: Array<TokenHash> = []
    const gone: Array<TokenHash> = []
    for (let i = 0; i < 3; i++) {
      const user = userRecord()
      yield* store.insertUser(user)
      const [kept, deleted] = [session(user.id), session(user.id)]
      yield* store.insertSession(kept)
      yield* store.insertSession(deleted)
      yield* store.deleteSession(deleted.tokenHash)
      live.push(kept.tokenHash)
      gone.push(deleted.tokenHash)
    }
    return { store, live, gone, pool: yield* pool(scoped) }
  })

const batchText = sessionBatchQuery("$1")
// The parameters of each query sent, and those of the batched queries alone.
const valuesOf = (config: unknown, only?: string): ReadonlyArray<unknown> =>
  Predicate.isRecord(config) && Array.isArray(config.values) && (only === undefined || config.text === only)
    ? [config.values[0]]
    : []
const sentOf = (calls: ReadonlyArray<ReadonlyArray<unknown>>, only?: string) =>
  calls.flatMap(([config]) => valuesOf(config, only))
const batchSizes = (calls: ReadonlyArray<ReadonlyArray<unknown>>) =>
  sentOf(calls, batchText).map((hashes) => Array.isArray(hashes) ? hashes.length : -1)

describeOn("pg", "session reader", (url) => {
  it.scoped("look-ups waiting together share one query, each with its own answer", () =>
    Effect.gen(function*() {
      const { gone, live, pool, store } = yield* seeded(url)
      const query = vi.spyOn(pool, "query")
      const find = PgSessionReader.make(pool, store.findSession, { inFlight: 1, batch: 8 })
      const unknown = Array.from({ length: 6 }, (_, i) => TokenHash.make(`unknown-${i}`))
      // Repeats included: two look-ups of one session in one query each get the row.
      const asked = Array.from({ length: 40 }, (_, i) => [...live, ...gone, ...unknown, live[0]!][i % 13]!)
      const answers = yield* Effect.forEach(asked, find, { concurrency: "unbounded" })
      for (const [i, tokenHash] of asked.entries()) {
        assert.deepStrictEqual(answers[i], yield* store.withTransaction(store.findSession(tokenHash)))
      }
      assert.strictEqual(answers.filter(Option.isSome).length, asked.filter((hash) => live.includes(hash)).length)
      // The first went out alone; the other 39 waited for it and went out 8 at a time.
      assert.deepStrictEqual(batchSizes(query.mock.calls), [8, 8, 8, 8, 7])
      assert.strictEqual(query.mock.calls.length, 6)
    }))

  it.scoped("a look-up interrupted while it waits is not sent; the others are answered", () =>
    Effect.gen(function*() {
      const { live, pool, store } = yield* seeded(url)
      const query = vi.spyOn(pool, "query")
      const find = PgSessionReader.make(pool, store.findSession, { inFlight: 1, batch: 8 })
      const first = yield* Effect.fork(find(live[0]!))
      const dropped = yield* Effect.fork(find(live[1]!))
      const kept = yield* Effect.fork(find(live[2]!))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(dropped)
      assert.isTrue(Option.isSome(yield* Fiber.join(first)))
      assert.isTrue(Option.isSome(yield* Fiber.join(kept)))
      assert.deepStrictEqual(sentOf(query.mock.calls).flat(), [live[0], live[2]])
    }))

  it.scoped("a query that fails fails each of its look-ups with StoreError", () =>
    Effect.gen(function*() {
      const { live, store } = yield* seeded(url)
      // Nothing listens on port 1: every query fails to connect, alone or in a batch.
      const closed = yield* pool("postgres://postgres@127.0.0.1:1/test")
      const query = vi.spyOn(closed, "query")
      const find = PgSessionReader.make(closed, store.findSession, { inFlight: 1, batch: 8 })
      const exits = yield* Effect.forEach([...live, ...live], (hash) => Effect.exit(find(hash)), {
        concurrency: "unbounded"
      })
      for (const exit of exits) {
        assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag === "StoreError")
      }
      assert.deepStrictEqual(batchSizes(query.mock.calls), [5])
    }))
})
