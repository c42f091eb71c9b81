/**
 * The operator CLI (`npx userharbor`), built once and run as a process on a real SQLite file, PostgreSQL schema
 * and MariaDB/MySQL database: migrate, status, user list/show and the account changes, outbox, purge, the exit codes scripts rely on, and
 * `--help` on every command. Accounts are created through the library, as the app would.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Predicate, Redacted, type Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { CounterStore } from "../../src/CounterStore.js"
import type { StoreError } from "../../src/Errors.js"
import * as MysqlUserStore from "../../src/MysqlUserStore.js"
import * as PgUserStore from "../../src/PgUserStore.js"
import * as SessionCache from "../../src/SessionCache.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import * as UserHarbor from "../../src/UserHarbor.js"
import { testSecretKey } from "../../src/UserHarborTest.js"
import type { UserStore } from "../../src/UserStore.js"
import { buildCli, type BuiltCli } from "../support/cli.js"
import { alice, bob, loggedIn, loginAs, registerVerified } from "../support/fixtures.js"
import { harborOn } from "../support/harborOn.js"
import { describeOn, mysqlDatabase, pgSchema } from "../support/sqlDatabases.js"

let cli: BuiltCli
beforeAll(async () => {
  cli = await buildCli()
}, 180_000)
afterAll(() => cli.remove())

const secretEnv = { USERHARBOR_SECRET_KEY: Redacted.value(testSecretKey) }

const parsed = (stdout: string): unknown => JSON.parse(stdout)

describe("CLI usage", () => {
  it("--help on the binary and on every command exits 0 and describes it on stdout", async () => {
    for (
      const command of [
        [],
        ["migrate"],
        ["status"],
        ["purge"],
        ["user"],
        ["user", "show"],
        ["user", "lock"],
        ["user", "unlock"],
        ["user", "end-sessions"],
        ["user", "delete"],
        ["user", "list"],
        ["user", "mark-verified"],
        ["user", "clear-throttle"],
        ["outbox"],
        [
          "outbox",
          "status"
        ],
        ["outbox", "retry"]
      ]
    ) {
      const { code, stdout } = await cli.run([...command, "--help"])
      expect(code, command.join(" ")).toBe(0)
      expect(stdout).toContain("USAGE")
    }
  }, 120_000)

  it("a missing or unknown command, or a bad option, is a usage error (2) explained on stderr", async () => {
    for (const args of [[], ["user"], ["outbox"], ["frobnicate"], ["status", "--frobnicate"]]) {
      const { code, stderr, stdout } = await cli.run(args)
      expect(code, args.join(" ")).toBe(2)
      expect(stderr).not.toBe("")
      expect(stdout).toBe("")
    }
  }, 60_000)

  it("no database configured, two configured, or a URL of another scheme: usage errors (2)", async () => {
    const none = await cli.run(["status"])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("USERHARBOR_DATABASE_URL")
    const both = await cli.run(["status"], {
      USERHARBOR_DATABASE_URL: "postgres://u:p@127.0.0.1:1/db",
      USERHARBOR_SQLITE_FILENAME: "x.db"
    })
    expect(both.code).toBe(2)
    const scheme = await cli.run(["status", "--url", "redis://user:s3cret@host/0"])
    expect(scheme.code).toBe(2)
    expect(scheme.stderr).not.toContain("s3cret")
  }, 60_000)

  it("an unreachable server is an infrastructure error (3) that names the setting, never the password", async () => {
    const { code, stderr } = await cli.run(["status"], {
      USERHARBOR_DATABASE_URL: "postgres://admin:s3cret@127.0.0.1:1/app"
    })
    expect(code).toBe(3)
    expect(stderr).toContain("ECONNREFUSED")
    expect(stderr).toContain("USERHARBOR_DATABASE_URL")
    expect(stderr).not.toContain("s3cret")
  }, 60_000)
})

/** The whole flow on one database; `database` gives its URL for the CLI and the library's store on it. */
const flow = (
  name: string,
  database: Effect.Effect<
    { readonly url: string; readonly store: Layer.Layer<UserStore | CounterStore, StoreError> },
    never,
    Scope.Scope
  >
) =>
  it(
    `${name}: migrate, status, user show, lock, unlock, end-sessions, list, mark-verified, delete, outbox, purge`,
    async () => {
      await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        const { store, url } = yield* database
        const run = (...args: ReadonlyArray<string>) =>
          Effect.promise(() => cli.run([...args, "--url", url], secretEnv))

        const before = yield* run("status", "--json", "--check")
        expect(before.code).toBe(1)
        const pending = parsed(before.stdout)
        expect(pending).toMatchObject({ applied: [], unknown: [] })
        expect(yield* run("user", "show", "alice")).toMatchObject({ code: 3 })

        const migrated = yield* run("migrate", "--json")
        expect(migrated.code).toBe(0)
        expect(parsed(migrated.stdout)).toEqual({ ran: expect.arrayContaining([{ id: 1, name: "create_tables" }]) })
        expect(parsed((yield* run("migrate", "--json")).stdout)).toEqual({ ran: [] })
        const after = yield* run("status", "--json", "--check")
        expect(after.code).toBe(0)
        expect(parsed(after.stdout)).toMatchObject({ pending: [], unknown: [] })

        // An account created by the app, through the library, with one session.
        yield* loggedIn(alice).pipe(Effect.provide(harborOn(store)), Effect.orDie)

        const shown = yield* run("user", "show", "alice", "--json")
        expect(shown.code).toBe(0)
        expect(parsed(shown.stdout)).toMatchObject({ username: "Alice", email: "alice@example.com", sessions: 1 })
        expect(shown.stdout).not.toContain("argon2")
        expect(yield* run("user", "show", "ALICE@example.com", "--by", "email")).toMatchObject({ code: 0 })
        const missing = yield* run("user", "show", "nobody")
        expect(missing.code).toBe(1)
        expect(missing.stderr).toContain("no user")

        // Administration, through UserHarborAdmin: seen by the library at once.
        const login = loginAs(alice).pipe(Effect.provide(harborOn(store)), Effect.flip, Effect.map((e) => e._tag))
        const locked = yield* run("user", "lock", "alice", "--reason", "fraud check", "--actor", "ops-7", "--json")
        expect(locked.code).toBe(0)
        expect(parsed(locked.stdout)).toMatchObject({ locked: true, changed: true })
        expect(yield* login).toBe("AccountLocked")
        expect(parsed((yield* run("user", "show", "alice", "--json")).stdout)).toMatchObject({
          sessions: 0,
          lock: { reason: "fraud check", actorId: "ops-7" }
        })
        expect(parsed((yield* run("user", "lock", "alice", "--reason", "again", "--json")).stdout)).toMatchObject({
          changed: false
        })
        expect(yield* run("user", "lock", "alice")).toMatchObject({ code: 2 }) // no --reason
        const noKey = yield* Effect.promise(() => cli.run(["user", "unlock", "alice", "--url", url]))
        expect(noKey.code).toBe(2)
        expect(noKey.stderr).toContain("USERHARBOR_SECRET_KEY")
        expect(parsed((yield* run("user", "unlock", "alice", "--json")).stdout)).toMatchObject({ changed: true })
        yield* loginAs(alice).pipe(Effect.provide(harborOn(store)), Effect.orDie)
        expect(parsed((yield* run("user", "end-sessions", "alice", "--json")).stdout)).toMatchObject({ ended: 1 })
        expect(yield* run("user", "lock", "nobody", "--reason", "x")).toMatchObject({ code: 1 })

        // The directory, a page at a time, with filters; and the address marked verified by hand.
        yield* harborOn(store).pipe(
          Layer.build,
          Effect.flatMap((context) => Context.get(context, UserHarbor.UserHarbor).register(bob)),
          Effect.orDie
        )
        const firstPage = parsed((yield* run("user", "list", "--limit", "1", "--json")).stdout)
        expect(firstPage).toMatchObject({ users: [{ username: "Alice", verified: true, locked: false }] })
        const cursor = Predicate.isRecord(firstPage) && Predicate.isString(firstPage.nextCursor)
          ? firstPage.nextCursor
          : ""
        expect(parsed((yield* run("user", "list", "--limit", "1", "--cursor", cursor, "--json")).stdout)).toEqual({
          users: [expect.objectContaining({ username: "Bob", verified: false })],
          nextCursor: null
        })
        expect(parsed((yield* run("user", "list", "--verified", "no", "--json")).stdout)).toMatchObject({
          users: [{ username: "Bob" }]
        })
        const listed = yield* run("user", "list")
        expect(listed.stdout).toContain("2 account(s)")
        expect(listed.stdout).not.toContain("argon2")
        expect(yield* run("user", "list", "--limit", "0")).toMatchObject({ code: 2 })
        expect(yield* run("user", "list", "--cursor", "not-a-cursor")).toMatchObject({ code: 2 })
        expect(parsed((yield* run("user", "mark-verified", "bob", "--json")).stdout)).toMatchObject({ changed: true })
        expect(parsed((yield* run("user", "mark-verified", "bob", "--json")).stdout)).toMatchObject({ changed: false })
        expect(parsed((yield* run("user", "list", "--verified", "no", "--json")).stdout)).toEqual({
          users: [],
          nextCursor: null
        })
        expect(parsed((yield* run("user", "clear-throttle", "bob", "--json")).stdout)).toMatchObject({ cleared: true })

        expect(parsed((yield* run("outbox", "status", "--json")).stdout)).toMatchObject({ waiting: 0, due: 0 })
        expect(parsed((yield* run("outbox", "retry", "--json")).stdout)).toEqual({ retried: 0 })
        const purged = yield* run("purge", "--json")
        expect(purged.code).toBe(0)
        expect(parsed(purged.stdout)).toEqual({ removed: 0 })
        expect(yield* run("purge", "--unverified-ttl", "0 seconds")).toMatchObject({ code: 2 })

        expect(yield* run("user", "delete", "alice")).toMatchObject({ code: 2 }) // no --yes
        expect(yield* run("user", "show", "alice")).toMatchObject({ code: 0 })
        expect(yield* run("user", "delete", "alice@example.com", "--yes")).toMatchObject({ code: 0 })
        expect(yield* run("user", "show", "alice")).toMatchObject({ code: 1 })
      })))
    },
    180_000
  )

describe("CLI on SQLite", () => {
  flow(
    "SQLite file",
    Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "userharbor-cli-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    ).pipe(Effect.map((dir) => {
      const filename = join(dir, "users.db")
      return { url: `sqlite:${filename}`, store: SqliteUserStore.layer({ filename }) }
    }))
  )
})

describe("CLI beside a running app on SQLite", () => {
  it("ends the sessions of an app whose SessionCache holds them: refused at the app's next check", async () => {
    const dir = mkdtempSync(join(tmpdir(), "userharbor-cli-"))
    const filename = join(dir, "users.db")
    try {
      await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        // The account made beforehand (verification revokes the user's cached sessions, and for the TTL keeps them
        // out of the cache); then one long-lived app with the cache, its entries good for an hour: only SQLite's
        // change counter can tell it that the CLI ended the session.
        yield* registerVerified(alice).pipe(Effect.provide(harborOn(SqliteUserStore.layer({ filename }))), Effect.orDie)
        const app = yield* Layer.build(harborOn(
          SessionCache.layer({ ttl: "1 hour" }).pipe(Layer.provideMerge(SqliteUserStore.layer({ filename })))
        ))
        const harbor = Context.get(app, UserHarbor.UserHarbor)
        const session = yield* loginAs(alice).pipe(Effect.provide(app), Effect.orDie)
        const check = harbor.validateSession(session.token).pipe(Effect.flip, Effect.map((e) => e._tag), Effect.option)
        expect(yield* check).toEqual(Option.none())
        expect(yield* check).toEqual(Option.none()) // now from the cache
        const ended = yield* Effect.promise(() =>
          cli.run(["user", "end-sessions", "alice", "--json", "--url", `sqlite:${filename}`], secretEnv)
        )
        expect(parsed(ended.stdout)).toMatchObject({ ended: 1 })
        expect(yield* check).toEqual(Option.some("InvalidSession"))
      })))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})

describeOn("pg", "CLI", (url) => {
  flow(
    "PostgreSQL",
    Effect.map(pgSchema(url), (scoped) => ({
      url: scoped,
      store: PgUserStore.layer({ url: Redacted.make(scoped) })
    }))
  )
})

describeOn("mysql", "CLI", (url) => {
  flow(
    "MariaDB",
    Effect.map(mysqlDatabase(url), (scoped) => ({
      url: scoped,
      store: MysqlUserStore.layer({ url: Redacted.make(scoped) })
    }))
  )
})
