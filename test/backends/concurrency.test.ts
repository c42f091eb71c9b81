/**
 * Real concurrency against real databases: 20 racing calls on PostgreSQL through a pool of 20 connections, and on
 * a SQLite file in WAL mode from 20 processes, each with its own connection (one process's fibers would share a
 * single connection and never race).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface, type Interface } from "node:readline"
import { afterAll } from "vitest"
import * as Email from "../../src/Email.js"
import { RecordingEmailSender, type TokenMessageKind } from "../../src/RecordingEmailSender.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as Username from "../../src/Username.js"
import { UserStore } from "../../src/UserStore.js"
import { type Command, execute, harborOn } from "../support/harborOn.js"
import { describeOn, pgStore } from "../support/sqlDatabases.js"

const racers = 20

type Race = (commands: ReadonlyArray<Command>) => Effect.Effect<ReadonlyArray<string>>

const tally = (outcomes: ReadonlyArray<string>) =>
  outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {})

const Count = Schema.Array(Schema.Struct({ n: Schema.Union(Schema.Number, Schema.NumberFromString) }))
const rowsWith = (column: "username_key" | "email_key", value: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql`SELECT COUNT(*) AS n FROM userharbor_users WHERE ${sql(column)} = ${value}`.pipe(
        Effect.orDie,
        Effect.flatMap(Schema.decodeUnknown(Count)),
        Effect.map((rows) => rows[0]?.n ?? -1)
      )
  )

// Distinct letter cases of one name: bit i of n upper-cases letter i.
const casing = (name: string, n: number) =>
  [...name].map((c, i) => (n >> i) & 1 ? c.toUpperCase() : c.toLowerCase()).join("")

const tag = () => Math.random().toString(36).slice(2, 8)

const lastToken = (kind: TokenMessageKind, email: string) =>
  Effect.flatMap(RecordingEmailSender, (r) => r.lastToken(kind, email)).pipe(Effect.map(Option.getOrThrow))

/**
 * The four races of issue 3 and the change-of-email race of issue 14, checked on whatever `race` runs them on;
 * logs the tallies.
 */
const scenarios = (name: string, race: Race) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor
    const report: Record<string, Record<string, number>> = {}

    // verifyEmail: one token, 20 consumers.
    const email = `race.${tag()}@example.com`
    yield* harbor.register({ username: `racer${tag()}`, email, password: "Original-pass-1!" })
    const verifyToken = yield* lastToken("VerificationEmail", email)
    const verified = yield* race(Array.from({ length: racers }, () => ({ op: "verifyEmail", token: verifyToken })))
    report.verifyEmail = tally(verified)
    assert.deepStrictEqual(report.verifyEmail, { ok: 1, InvalidToken: racers - 1 })

    // resetPassword: one token, 20 different new passwords; only the winner's may work afterwards.
    yield* harbor.sendPasswordReset(email)
    const resetToken = yield* lastToken("PasswordResetEmail", email)
    const passwords = Array.from({ length: racers }, (_, i) => `Racing-pass-${i}-${tag()}!`)
    const reset = yield* race(passwords.map((password) => ({ op: "resetPassword", token: resetToken, password })))
    report.resetPassword = tally(reset)
    assert.deepStrictEqual(report.resetPassword, { ok: 1, InvalidToken: racers - 1 })
    const logins = yield* Effect.forEach(passwords, (password) =>
      Effect.match(harbor.login({ email, password }), { onFailure: () => false, onSuccess: () => true }))
    assert.deepStrictEqual(
      logins,
      reset.map((o) =>
        o === "ok"
      ),
      "only the winner's password logs in"
    )
    assert.isFalse(
      yield* Effect.match(harbor.login({ email, password: "Original-pass-1!" }), {
        onFailure: () => false,
        onSuccess: () => true
      })
    )

    // register: one username in 20 letter cases.
    const username = `Racer${tag()}`
    const registered = yield* race(Array.from({ length: racers }, (_, i) => ({
      op: "register",
      username: casing(username, i * 7 + 1),
      email: `case${i}.${tag()}@example.com`,
      password: "Some-good-pass-9!"
    })))
    report.registerUsername = tally(registered)
    assert.deepStrictEqual(report.registerUsername, { ok: 1, UsernameTaken: racers - 1 })
    const usernameKey = Username.canonical(username)
    assert.strictEqual(yield* rowsWith("username_key", usernameKey), 1)
    assert.isTrue(Option.isSome(yield* Effect.flatMap(UserStore, (s) => s.findUserByUsername(usernameKey))))

    // register: one address in 20 letter cases; the rest succeed silently.
    const address = `Shared.${tag()}@Example.com`
    const sameEmail = yield* race(Array.from({ length: racers }, (_, i) => ({
      op: "register",
      username: `mail${i}x${tag()}`,
      email: casing(address, i * 5 + 3),
      password: "Some-good-pass-9!"
    })))
    report.registerEmail = tally(sameEmail)
    assert.deepStrictEqual(report.registerEmail, { ok: racers })
    assert.strictEqual(yield* rowsWith("email_key", Email.canonical(address)), 1)

    // confirmEmailChange: two accounts confirm one new address, each token 10 times; exactly one account wins.
    const shared = `Moved.${tag()}@Example.com`
    const tokens = yield* Effect.forEach([0, 1], (i) =>
      Effect.gen(function*() {
        const account = { username: `mover${i}x${tag()}`, email: `mover${i}.${tag()}@example.com` }
        const moverPassword = "Some-good-pass-9!"
        yield* harbor.register({ ...account, password: moverPassword })
        yield* harbor.verifyEmail(yield* lastToken("VerificationEmail", account.email))
        const session = yield* harbor.login({ email: account.email, password: moverPassword })
        yield* harbor.requestEmailChange({ sessionToken: session.token, password: moverPassword, newEmail: shared })
        return yield* lastToken("EmailChangeConfirmationEmail", shared)
      }))
    const confirmed = yield* race(
      Array.from({ length: racers }, (_, i) => ({ op: "confirmEmailChange", token: tokens[i % 2] ?? "" }))
    )
    report.confirmEmailChange = tally(confirmed)
    assert.deepStrictEqual(report.confirmEmailChange, { ok: 1, EmailTaken: 1, InvalidToken: racers - 2 })
    assert.strictEqual(yield* rowsWith("email_key", Email.canonical(shared)), 1)

    console.log(`concurrency (${name}): ${JSON.stringify(report)}`)
  })

// --- PostgreSQL: 20 fibers in this process, a pool of 20 ---

describeOn("pg", "concurrency", (url) => {
  it.live("20 racing verifyEmail, resetPassword, register and confirmEmailChange calls", () =>
    Effect.gen(function*() {
      const context = yield* Effect.context<UserHarbor>()
      const race: Race = (commands) =>
        Effect.forEach(commands, (c) => Effect.provide(execute(c), context), { concurrency: "unbounded" })
      yield* scenarios("postgres, pool of 20", race)
    }).pipe(Effect.provide(harborOn(pgStore(url, { maxConnections: 20 })))), { timeout: 120_000 })
})

// --- SQLite: 20 processes on one WAL file ---

interface Worker {
  readonly process: ChildProcessWithoutNullStreams
  readonly lines: Interface
  readonly next: () => Promise<string>
}

const startWorker = (filename: string): Worker => {
  const script = join(import.meta.dirname, "..", "support", "scripts", "sqliteWorker.ts")
  const child = spawn(process.execPath, ["--import", "tsx", script, filename])
  child.stderr.pipe(process.stderr)
  const lines = createInterface({ input: child.stdout })
  const queue: Array<string> = []
  const waiting: Array<(line: string) => void> = []
  lines.on("line", (line) => {
    const resolve = waiting.shift()
    if (resolve) resolve(line)
    else queue.push(line)
  })
  const next = () => {
    const line = queue.shift()
    return line !== undefined ? Promise.resolve(line) : new Promise<string>((resolve) => waiting.push(resolve))
  }
  return { process: child, lines, next }
}

const workers = (filename: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const all = Array.from({ length: racers }, () => startWorker(filename))
      for (const worker of all) assert.strictEqual(await worker.next(), "ready")
      return all
    }),
    (all) => Effect.sync(() => all.forEach((w) => w.process.kill()))
  )

const dir = mkdtempSync(join(tmpdir(), "userharbor-race-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("concurrency on SQLite (WAL file, 20 processes)", () => {
  it.live("20 racing verifyEmail, resetPassword, register and confirmEmailChange calls", () =>
    Effect.gen(function*() {
      const filename = join(dir, "race.db")
      const store = SqliteUserStore.layer({ filename })
      yield* Effect.gen(function*() {
        const all = yield* workers(filename)
        const decode = Schema.decodeUnknownSync(Schema.parseJson(Schema.String))
        // Every command goes out before any answer is read, so all 20 run at once.
        const race: Race = (commands) =>
          Effect.promise(() => {
            commands.forEach((c, i) => all[i]?.process.stdin.write(JSON.stringify(c) + "\n"))
            return Promise.all(all.map(async (w) => decode(await w.next())))
          })
        yield* scenarios("sqlite WAL file, 20 processes", race)
      }).pipe(Effect.provide(harborOn(store)))
    }).pipe(Effect.scoped), { timeout: 180_000 })
})
