import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Predicate, Redacted, Schema } from "effect"
import { StoreError } from "../../src/Errors.js"
import { fiberFailureRenderings, renderings } from "../support/renderings.js"
import { describeOn, mysqlDatabase } from "../support/sqlDatabases.js"

const expectHidden = (texts: ReadonlyArray<string>, hidden: ReadonlyArray<string>) => {
  for (const text of texts) {
    for (const secret of hidden) {
      if (text.includes(secret)) expect.fail(`printed "${secret}": ${text.slice(0, 400)}`)
    }
  }
}

describe("StoreError", () => {
  // A driver error can quote bind parameters (token hashes) or a connection string with its password.
  const cause = new Error("insert failed for 9f86d081884c7d65 at postgres://app:hunter2@db/prod")
  const error = new StoreError({ operation: "insertSession", cause })

  it("keeps the driver error for deliberate debugging only", () => {
    expect(error.unsafeDriverError()).toBe(cause)
    expect("cause" in error && error.cause !== undefined).toBe(false)
  })

  it("encodes and decodes without the driver error, as an HttpApi or RPC schema would send it", () => {
    const withReason = new StoreError({ operation: "connect", reason: "nothing listens on 127.0.0.1:1", cause })
    const encoded = Schema.encodeSync(StoreError)(withReason)
    expect(encoded).toEqual({ _tag: "StoreError", operation: "connect", reason: "nothing listens on 127.0.0.1:1" })
    const decoded = Schema.decodeUnknownSync(StoreError)(encoded)
    expect(decoded.message).toBe(withReason.message)
    expect(decoded.unsafeDriverError()).toBeUndefined()
  })

  it.effect("keeps it reachable when Effect has wrapped the error to attach a span", () =>
    Effect.gen(function*() {
      const caught = yield* Effect.flip(Effect.withSpan(Effect.fail(error), "UserHarbor.login"))
      expect(caught.unsafeDriverError()).toBe(cause)
    }))

  it("never prints it, through its own renderings or Effect's", () => {
    const texts = renderings(error)
    for (const text of texts.slice(0, 5)) expect(text).toContain("insertSession")
    expectHidden(texts, ["9f86d081884c7d65", "hunter2", "insert failed"])
  })

  it("shows its reason in the message, on one line", () => {
    const withReason = new StoreError({ operation: "connect", reason: "nothing listens on 127.0.0.1:1", cause })
    expect(withReason.message).toBe("User store failed during connect: nothing listens on 127.0.0.1:1")
    expect(JSON.parse(JSON.stringify(withReason))).toEqual({
      _tag: "StoreError",
      operation: "connect",
      reason: "nothing listens on 127.0.0.1:1"
    })
  })
})

// A real driver error that quotes the value: SQLite's CHECK message and MariaDB's `Duplicate entry '…'`.
const victim = "victim@example.com"

const rejectedInsert = (createTable: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(createTable)
    yield* sql`INSERT INTO victims (email) VALUES (${victim})`.pipe(Effect.ignore)
    const sqlError: SqlError = yield* Effect.flip(sql`INSERT INTO victims (email) VALUES (${victim})`)
    return new StoreError({ operation: "insertUser", cause: sqlError })
  })

const expectDriverMessageHidden = (error: StoreError) =>
  Effect.gen(function*() {
    const driverError = error.unsafeDriverError()
    const driverMessage = Predicate.hasProperty(driverError, "cause") ? String(driverError.cause) : ""
    // The driver does quote the value: otherwise this test could not fail.
    expect(driverMessage).toContain(victim)
    const rejected = yield* Effect.promise(() =>
      Effect.runPromise(Effect.fail(error)).then(() => [], (failure: unknown) => fiberFailureRenderings(failure))
    )
    expect(rejected.length).toBeGreaterThan(0)
    expectHidden([...renderings(error), ...rejected], [victim, driverMessage.replace(/^\w*Error: /, "")])
  })

describe("StoreError from a real driver error", () => {
  it.effect("SQLite (a CHECK constraint that quotes the value)", () =>
    Effect.gen(function*() {
      const error = yield* rejectedInsert(`CREATE TABLE victims (email TEXT CHECK (email <> '${victim}'))`)
      yield* expectDriverMessageHidden(error)
    }).pipe(Effect.provide(SqliteClient.layer({ filename: ":memory:" }))))

  describeOn("mysql", "duplicate entry", (url) => {
    it.effect("MariaDB/MySQL (Duplicate entry 'victim@example.com')", () =>
      Effect.gen(function*() {
        const error = yield* rejectedInsert("CREATE TABLE victims (email VARCHAR(100) UNIQUE)")
        yield* expectDriverMessageHidden(error)
      }).pipe(
        Effect.provide(Layer.unwrapScoped(
          Effect.map(mysqlDatabase(url), (scoped) => MysqlClient.layer({ url: Redacted.make(scoped) }))
        ))
      ))
  })
})
