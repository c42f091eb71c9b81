/**
 * Migration 0004 on every SQL backend: a database created by 0001-0003 with the keys of earlier versions (the
 * case-folded name) gets confusable-skeleton keys; look-alikes that were let in keep their key for the oldest.
 */
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import * as SqlMigrations from "../../src/SqlMigrations.js"
import * as SqlUserStore from "../../src/SqlUserStore.js"
import * as Username from "../../src/Username.js"
import { describeOn, mysqlDatabase, pgSchema } from "../support/sqlDatabases.js"

const pg = (server: string) =>
  Layer.orDie(Layer.unwrapScoped(Effect.map(pgSchema(server), (url) => PgClient.layer({ url: Redacted.make(url) }))))
const mysql = (server: string) =>
  Layer.orDie(
    Layer.unwrapScoped(Effect.map(mysqlDatabase(server), (url) => MysqlClient.layer({ url: Redacted.make(url) })))
  )

// The schema as 0.1 left it: only the migrations before 0004.
const before0004 = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const loader = Effect.map(SqlMigrations.loader, (all) => all.filter(([id]) => id < 4))
  return yield* Migrator.make({})({ loader, table: SqlMigrations.table }).pipe(
    Effect.provideService(SqlClient.SqlClient, sql),
    Effect.orDie
  )
})

const legacy = [
  // name, the key 0.1 stored, created at
  ["Alice", "alice", 1],
  ["bob", "bob", 2],
  ["B0B", "b0b", 3],
  ["a1ice", "a1ice", 4],
  ["Straße", "strasse", 5],
  ["rnarie", "rnarie", 6],
  ["Marie", "marie", 7],
  ["\u0430lice", "\u0430lice", 0]
] as const

const Key = Schema.Struct({ id: Schema.String, username_key: Schema.String })

const title = "migration 0004 re-keys usernames by their confusable skeleton"

const rekeys = (name: string, client: () => Layer.Layer<SqlClient.SqlClient>) =>
  it.effect(name, () =>
    Effect.gen(function*() {
      const sql = (yield* SqlClient.SqlClient).withoutTransforms()
      assert.deepStrictEqual((yield* before0004).map(([id]) => id), [1, 2, 3])
      for (const [username, key, createdAt] of legacy) {
        yield* sql`INSERT INTO userharbor_users ${
          sql.insert({
            id: `id-${createdAt}`,
            username,
            username_key: key,
            email: `u${createdAt}@example.com`,
            email_key: `u${createdAt}@example.com`,
            password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            password_version: 1,
            verified: 1,
            created_at: createdAt
          })
        }`
      }
      // Every migration after 0003 runs, 0004 among them (later issues add theirs).
      const pending = (yield* Effect.orDie(SqlMigrations.loader)).map(([id]) => id).filter((id) => id > 3)
      assert.deepStrictEqual((yield* SqlMigrations.run).map(([id]) => id), pending)
      assert.include(pending, 4)
      const rows = yield* Effect.flatMap(
        sql`SELECT id, username_key FROM userharbor_users ORDER BY created_at`,
        Schema.decodeUnknown(Schema.Array(Key))
      )
      assert.deepStrictEqual(Object.fromEntries(rows.map((row) => [row.id, row.username_key])), {
        // The Cyrillic look-alike was there first, so it keeps "alice"; Latin Alice logs in by email from now on.
        "id-0": "alice",
        "id-1": "\uFFFFid-1",
        "id-2": "bob",
        "id-3": "\uFFFFid-3",
        "id-4": "\uFFFFid-4",
        "id-5": "strasse",
        "id-6": "rnarie",
        "id-7": "\uFFFFid-7"
      })
      for (const [username, , createdAt] of [legacy[1], legacy[4], legacy[5]]) {
        assert.strictEqual(
          Username.canonical(username),
          rows.find((row) => row.id === `id-${createdAt}`)?.username_key
        )
      }
      // The store finds the keeper by any look-alike's key, and running the migrations again changes nothing.
      const { store } = yield* SqlUserStore.make
      const found = yield* store.findUserByUsername(Username.canonical("B0B"))
      assert.deepStrictEqual(Option.map(found, (user) => user.id), Option.some("id-2"))
      assert.deepStrictEqual(yield* SqlMigrations.run, [])
    }).pipe(Effect.provide(client())), { timeout: 60_000 })

describe(title, () => rekeys("sqlite", () => Layer.orDie(SqliteClient.layer({ filename: ":memory:" }))))
describeOn("pg", title, (url) => rekeys("postgres", () => pg(url)))
describeOn("mysql", title, (url) => rekeys("mysql", () => mysql(url)))
