/**
 * Every layer that fails at start-up says, in one line, what is wrong and what to set, and shows no secret: a
 * SQLite file in a missing directory, a refused connection, an unknown host, database or role, a wrong password,
 * a malformed URL, a missing or short secret key, an invalid SMTP setting. Each database case runs on the real
 * driver and server; the message is printed, so the test log shows what a user sees.
 */
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { StoreError } from "../../src/Errors.js"
import * as MysqlUserStore from "../../src/MysqlUserStore.js"
import * as PgUserStore from "../../src/PgUserStore.js"
import * as SmtpEmailSender from "../../src/SmtpEmailSender.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import { renderings } from "../support/renderings.js"
import { describeOn, pgSchema } from "../support/sqlDatabases.js"

const dir = mkdtempSync(join(tmpdir(), "userharbor-startup-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const password = "hunter2-secret"
const withEnv = (entries: ReadonlyArray<readonly [string, string]>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries)))

/** Builds `layer`, expects it to fail, and checks the one line against `expected` and every rendering for `hidden`. */
const startupLine = <A, E>(layer: Layer.Layer<A, E>, hidden: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(Effect.scoped(Layer.build(layer)))
    const line = error instanceof Error ? error.message : String(error)
    console.log(line)
    expect(line).not.toContain("\n")
    for (const text of renderings(error)) {
      for (const secret of hidden) {
        if (text.includes(secret)) expect.fail(`shows "${secret}": ${text.slice(0, 300)}`)
      }
    }
    return { error, line }
  })

const expectStoreError = (error: unknown, message: string) => {
  assert.instanceOf(error, StoreError)
  expect(error.message).toBe(message)
}

/** A port on which nothing listens: bound by the OS, then released. */
const closedPort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
)

describe("SQLite", () => {
  it.effect("a file in a missing directory (the docs' .data/app.db)", () =>
    Effect.gen(function*() {
      const filename = join(dir, ".data", "app.db")
      const { error } = yield* startupLine(SqliteUserStore.layer({ filename }), [])
      expectStoreError(
        error,
        `User store failed during connect: cannot open "${filename}": directory "${
          join(dir, ".data")
        }" does not exist; create it or set the filename option to a file in an existing directory`
      )
    }))

  it.effect("layerConfig names USERHARBOR_SQLITE_FILENAME", () =>
    Effect.gen(function*() {
      const { line } = yield* startupLine(SqliteUserStore.layerConfig(), []).pipe(
        withEnv([["USERHARBOR_SQLITE_FILENAME", ".data-missing-for-this-test/app.db"]])
      )
      expect(line).toBe(
        `User store failed during connect: cannot open ".data-missing-for-this-test/app.db": directory ` +
          `".data-missing-for-this-test" does not exist; create it or set USERHARBOR_SQLITE_FILENAME to a file in ` +
          "an existing directory"
      )
    }))

  it.effect("a path through a regular file (SQLITE_CANTOPEN)", () =>
    Effect.gen(function*() {
      writeFileSync(join(dir, "plain-file"), "")
      const filename = join(dir, "plain-file", "app.db")
      const { line } = yield* startupLine(SqliteUserStore.layer({ filename }), [])
      expect(line).toBe(
        `User store failed during connect: cannot open "${filename}" (SQLITE_CANTOPEN: no permission, or a part of ` +
          "the path is not a directory); fix the filename option or the permissions"
      )
    }))
})

describe("secret key and settings", () => {
  it.effect("a missing USERHARBOR_SECRET_KEY is named", () =>
    Effect.gen(function*() {
      const { line } = yield* startupLine(UserHarborConfig.layerConfig(), []).pipe(withEnv([]))
      expect(line).toBe(
        "(Missing data at USERHARBOR_SECRET_KEY: \"not set; set it to at least 32 bytes: a random value, e.g. " +
          "from `openssl rand -base64 48`\")"
      )
    }))

  it.effect("a short USERHARBOR_SECRET_KEY is named, not the option, and not quoted", () =>
    Effect.gen(function*() {
      const { line } = yield* startupLine(UserHarborConfig.layerConfig(), [password]).pipe(
        withEnv([["USERHARBOR_SECRET_KEY", password]])
      )
      expect(line).toBe(
        "(Invalid data at USERHARBOR_SECRET_KEY: \"must be at least 32 bytes; use a random value, e.g. from " +
          "`openssl rand -base64 48`\")"
      )
    }))

  it.effect("an invalid SMTP setting names its variable", () =>
    Effect.gen(function*() {
      const env = [["USERHARBOR_SMTP_FROM", "no-reply@example.com"]] as const
      const host = yield* startupLine(SmtpEmailSender.layerConfig(), []).pipe(
        withEnv([...env, ["USERHARBOR_SMTP_HOST", "mail example com"]])
      )
      expect(host.line).toBe("(Invalid data at USERHARBOR_SMTP_HOST: \"must be a host name or an IP address\")")
      const from = yield* startupLine(SmtpEmailSender.layerConfig(), []).pipe(
        withEnv([["USERHARBOR_SMTP_HOST", "localhost"], ["USERHARBOR_SMTP_FROM", "not an address"]])
      )
      expect(from.line).toBe("(Invalid data at USERHARBOR_SMTP_FROM: \"not an email address\")")
    }))
})

describe("a server that cannot be used", () => {
  const url = (scheme: string, port: number) => `${scheme}://harbor:${password}@127.0.0.1:${port}/userharbor_db`
  const hidden = (scheme: string) => [password, "harbor:", `${scheme}://`]

  it.live("PostgreSQL on a closed port", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const { error } = yield* startupLine(
        PgUserStore.layer({ url: Redacted.make(url("postgres", port)) }),
        hidden("postgres")
      )
      expectStoreError(
        error,
        `User store failed during connect: nothing listens on 127.0.0.1:${port} (ECONNREFUSED); start the server ` +
          "or fix the host and port in the url option"
      )
    }))

  it.live("MariaDB/MySQL on a closed port, through layerConfig", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const { error } = yield* startupLine(MysqlUserStore.layerConfig(), hidden("mysql")).pipe(
        withEnv([["USERHARBOR_DATABASE_URL", url("mysql", port)]])
      )
      expectStoreError(
        error,
        `User store failed during connect: nothing listens on 127.0.0.1:${port} (ECONNREFUSED); start the server ` +
          "or fix the host and port in USERHARBOR_DATABASE_URL"
      )
    }))

  it.live("an unknown host", () =>
    Effect.gen(function*() {
      const { error } = yield* startupLine(
        PgUserStore.layer({ url: Redacted.make(`postgres://harbor:${password}@no-such-host.invalid/userharbor_db`) }),
        hidden("postgres")
      )
      expectStoreError(
        error,
        "User store failed during connect: host \"no-such-host.invalid\" not found (ENOTFOUND); fix the host in " +
          "the url option"
      )
    }))

  it.effect.each([["PostgreSQL", PgUserStore.layer], ["MariaDB/MySQL", MysqlUserStore.layer]] as const)(
    "%s: a malformed URL",
    ([, layer]) =>
      Effect.gen(function*() {
        const { error } = yield* startupLine(layer({ url: Redacted.make(`not a url ${password}`) }), [password])
        expectStoreError(
          error,
          "User store failed during connect: the url option is not a valid URL (not shown, as it may hold a " +
            "password); set it to scheme://user:password@host:port/database"
        )
      })
  )
})

describeOn("pg", "start-up failures", (server) => {
  const variant = (change: (url: URL) => void) => {
    const url = new URL(server)
    change(url)
    return Redacted.make(url.toString())
  }
  const unique = Math.random().toString(36).slice(2, 8)

  it.live("an unknown database (3D000)", () =>
    Effect.gen(function*() {
      const database = `userharbor_missing_${unique}`
      const { error } = yield* startupLine(
        PgUserStore.layer({
          url: variant((url) => {
            url.pathname = `/${database}`
            url.password = password
          })
        }),
        [password]
      )
      expectStoreError(
        error,
        `User store failed during connect: database "${database}" does not exist (3D000); create it or fix the ` +
          "database name in the url option"
      )
    }))

  it.live("a user who may not create the tables (42501, at migration)", () =>
    Effect.gen(function*() {
      const role = `userharbor_reader_${unique}`
      const scoped = new URL(yield* pgSchema(server))
      const schema = (scoped.searchParams.get("options") ?? "").replace("-c search_path=", "")
      const admin = (statement: string) =>
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
          Effect.provide(PgClient.layer({ url: Redacted.make(server) })),
          Effect.orDie
        )
      yield* Effect.acquireRelease(
        Effect.zipRight(admin(`CREATE ROLE ${role} LOGIN`), admin(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`)),
        () => Effect.zipRight(admin(`DROP OWNED BY ${role}`), admin(`DROP ROLE ${role}`))
      )
      scoped.username = role
      const { error } = yield* startupLine(PgUserStore.layer({ url: Redacted.make(scoped.toString()) }), [])
      expectStoreError(
        error,
        "User store failed during migrate: the database user may not create or change the tables (42501); grant it " +
          "that right, or run SqlMigrations once as the owner and build the store with layerWithoutMigrations"
      )
    }).pipe(Effect.scoped))

  it.live("an unknown role (28000)", () =>
    Effect.gen(function*() {
      const role = `userharbor_nobody_${unique}`
      const { error } = yield* startupLine(
        PgUserStore.layer({
          url: variant((url) => {
            url.username = role
            url.password = password
          })
        }),
        [password, role]
      )
      expectStoreError(
        error,
        "User store failed during connect: the server refused the user (28000: no such role, or pg_hba.conf does " +
          "not allow it); fix the user in the url option or the server's access rules"
      )
    }))
})

describeOn("mysql", "start-up failures", (server) => {
  const unique = Math.random().toString(36).slice(2, 8)
  const user = `uh_${unique}`
  const rightPassword = `right-${unique}-pass`
  const withUser = (secret: string, database: string) => {
    const url = new URL(server)
    url.username = user
    url.password = secret
    url.pathname = `/${database}`
    return Redacted.make(url.toString())
  }
  // A user of our own with a password: the server's root may have none, so a wrong one would not be refused.
  const testUser = Layer.scopedDiscard(Effect.acquireRelease(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.zipRight(
        sql.unsafe(`CREATE USER '${user}'@'%' IDENTIFIED BY '${rightPassword}'`),
        sql.unsafe(`GRANT USAGE ON *.* TO '${user}'@'%'`)
      )).pipe(Effect.orDie),
    () => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`DROP USER '${user}'@'%'`)).pipe(Effect.orDie)
  )).pipe(Layer.provide(MysqlClient.layer({ url: Redacted.make(server) })))

  it.live("a wrong password (ER_ACCESS_DENIED_ERROR), for a user whose right password works", () =>
    Effect.gen(function*() {
      // The right password connects, so the refusal below is about the password.
      yield* Effect.scoped(Layer.build(MysqlClient.layer({ url: withUser(rightPassword, "") })))
      const { error } = yield* startupLine(
        MysqlUserStore.layer({ url: withUser(password, "test") }),
        [password, rightPassword, user]
      )
      expectStoreError(
        error,
        "User store failed during connect: the server refused the user name or password (ER_ACCESS_DENIED_ERROR); " +
          "fix them in the url option"
      )
    }).pipe(Effect.provide(testUser)))

  it.live("an unknown database (ER_BAD_DB_ERROR)", () =>
    Effect.gen(function*() {
      const url = new URL(server)
      url.pathname = `/userharbor_missing_${unique}`
      const { error } = yield* startupLine(MysqlUserStore.layer({ url: Redacted.make(url.toString()) }), [])
      expectStoreError(
        error,
        `User store failed during connect: database "userharbor_missing_${unique}" does not exist ` +
          "(ER_BAD_DB_ERROR); create it or fix the database name in the url option"
      )
    }))
})
