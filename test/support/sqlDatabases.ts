/**
 * Private databases for the PostgreSQL and MariaDB/MySQL tests: each layer gets a schema (PostgreSQL) or database
 * (MySQL) of its own, created for the run and dropped when the layer's scope closes, so runs cannot interfere.
 */
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted, type Scope } from "effect"
import { randomBytes } from "node:crypto"
import * as MysqlUserStore from "../../src/MysqlUserStore.js"
import * as PgUserStore from "../../src/PgUserStore.js"

const servers = {
  pg: { name: "PostgreSQL", variable: "USERHARBOR_TEST_PG_URL" },
  mysql: { name: "MariaDB/MySQL", variable: "USERHARBOR_TEST_MYSQL_URL" }
} as const

/**
 * A test setting read from the environment; an empty value counts as unset. When it is unset, `describeWith`
 * prints one line and registers a skipped block whose body is never called: `describe.runIf(false)` would still
 * run its callback to collect the tests, where a `new URL("")` throws and fails the whole file.
 */
export const describeWith = (variable: string, title: string, body: (value: string) => void): void => {
  const value = process.env[variable]
  if (value === undefined || value === "") {
    console.warn(`${variable} is not set: skipping "${title}"`)
    describe.skip(title, () => {
      it.skip(`needs ${variable}`, () => {})
    })
    return
  }
  describe(title, () => body(value))
}

/** `describeWith` on the PostgreSQL or MariaDB/MySQL test URL; the title starts with the server's name. */
export const describeOn = (server: keyof typeof servers, title: string, body: (url: string) => void): void =>
  describeWith(servers[server].variable, title === "" ? servers[server].name : `${servers[server].name} ${title}`, body)

const runName = () => `userharbor_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`

/** A new schema, and the URL of a connection whose `search_path` is that schema. */
export const pgSchema = (url: string): Effect.Effect<string, never, Scope.Scope> => {
  const admin = (statement: string) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
      Effect.provide(PgClient.layer({ url: Redacted.make(url) })),
      Effect.orDie
    )
  return Effect.acquireRelease(
    Effect.tap(Effect.succeed(runName()), (schema) => admin(`CREATE SCHEMA ${schema}`)),
    (schema) => admin(`DROP SCHEMA ${schema} CASCADE`)
  ).pipe(Effect.map((schema) => {
    const scoped = new URL(url)
    scoped.searchParams.set("options", `-c search_path=${schema}`)
    return scoped.toString()
  }))
}

/** A new database, and a URL that points at it. */
export const mysqlDatabase = (url: string): Effect.Effect<string, never, Scope.Scope> => {
  const admin = (statement: string) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
      Effect.provide(MysqlClient.layer({ url: Redacted.make(url) })),
      Effect.orDie
    )
  return Effect.acquireRelease(
    Effect.tap(Effect.succeed(runName()), (database) => admin(`CREATE DATABASE ${database}`)),
    (database) => admin(`DROP DATABASE ${database}`)
  ).pipe(Effect.map((database) => {
    const scoped = new URL(url)
    scoped.pathname = `/${database}`
    return scoped.toString()
  }))
}

export const pgStore = (url: string, options: Partial<PgUserStore.Options> = {}) =>
  Layer.unwrapScoped(
    Effect.map(pgSchema(url), (scoped) => PgUserStore.layer({ ...options, url: Redacted.make(scoped) }))
  )

export const mysqlStore = (url: string, options: Partial<MysqlUserStore.Options> = {}) =>
  Layer.unwrapScoped(
    Effect.map(mysqlDatabase(url), (scoped) => MysqlUserStore.layer({ ...options, url: Redacted.make(scoped) }))
  )
