/**
 * What the scenarios share: the secret key, deterministic session tokens, SQLite files seeded with N sessions
 * (reused between runs: seeding a million rows takes a while), the library wired on a store, the raw baseline's
 * session check (HMAC + one prepared statement), and Lucia v3 on the same file (its own two tables, same sessions).
 */
import { BetterSqlite3Adapter } from "@lucia-auth/adapter-sqlite"
import * as argon2 from "argon2"
import Database from "better-sqlite3"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { Lucia } from "lucia"
import { createHmac, createSecretKey } from "node:crypto"
import { existsSync, mkdirSync, rmSync } from "node:fs"
import { performance } from "node:perf_hooks"
import type { CounterStore } from "../src/CounterStore.js"
import { EmailSender } from "../src/EmailSender.js"
import * as PasswordHasher from "../src/PasswordHasher.js"
import * as SecureRandom from "../src/SecureRandom.js"
import * as SessionCache from "../src/SessionCache.js"
import * as SqliteUserStore from "../src/SqliteUserStore.js"
import * as UserHarbor from "../src/UserHarbor.js"
import * as UserHarborConfig from "../src/UserHarborConfig.js"
import type { UserStore } from "../src/UserStore.js"

export const secret = "bench-secret-key-0123456789abcdef-0123456789"
export const secretKey = Redacted.make(secret)
export const password = "correct horse battery staple 1"
export const argon2Options = PasswordHasher.defaultOptions
export const sessionsPerUser = 10

export const dataDir = "bench/.data"

const hmacKey = createSecretKey(Buffer.from(secret, "utf8"))

/** The raw token of session `i`: 32 pseudo-random bytes in base64url, like the library's. */
export const tokenFor = (i: number): string => createHmac("sha256", "bench-seed").update(String(i)).digest("base64url")

/** The stored form of a token, exactly as the library computes it. */
export const hashToken = (token: string): string => createHmac("sha256", hmacKey).update(token, "utf8").digest("hex")

export const userIdFor = (u: number) => `u${String(u).padStart(31, "0")}`
export const emailFor = (u: number) => `user${u}@bench.example`

let cachedHash: Promise<string> | undefined
/** One argon2id hash of `password` at the library's default parameters, shared by every seeded user. */
export const passwordHash = (): Promise<string> =>
  cachedHash ??= argon2.hash(password, { type: argon2.argon2id, ...argon2Options })

/** Runs the library's migrations on `filename` by building its store layer once. */
const migrate = (filename: string) => Effect.runPromise(Effect.scoped(Layer.build(SqliteUserStore.layer({ filename }))))

// Bumped whenever the seeded tables change, so a stale cached file is rebuilt rather than reused.
const fixtureVersion = 2

const count = (db: Database.Database, table: string): unknown => {
  const row: unknown = db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()
  return typeof row === "object" && row !== null && "n" in row ? row.n : undefined
}

/** How long the last `seedSqlite` call took to build its file (0 when it reused a cached one), in seconds. */
export let lastSeedSeconds = 0

/**
 * A SQLite file with `sessions` live sessions (`sessionsPerUser` per user), built through the library's migrations
 * and filled with raw inserts, and the same users and sessions in Lucia's tables. Reused when it already holds
 * that many: building the 1,000,000-session file takes about a minute on a quiet machine.
 */
export const seedSqlite = async (sessions: number): Promise<string> => {
  mkdirSync(dataDir, { recursive: true })
  const filename = `${dataDir}/sessions-v${fixtureVersion}-${sessions}.db`
  lastSeedSeconds = 0
  if (existsSync(filename)) {
    const db = new Database(filename, { readonly: true })
    try {
      if (count(db, "userharbor_sessions") === sessions && count(db, "lucia_session") === sessions) return filename
    } catch {
      // a file from an interrupted build: rebuilt below
    } finally {
      db.close()
    }
  }
  const started = performance.now()
  for (const suffix of ["", "-wal", "-shm"]) rmSync(filename + suffix, { force: true })
  await migrate(filename)
  const hash = await passwordHash()
  const db = new Database(filename)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = OFF")
  // Lucia's SQLite schema (lucia-auth.com, v3), with the app's columns in its user table as its guides put them.
  db.exec(`CREATE TABLE lucia_user (id TEXT NOT NULL PRIMARY KEY, username TEXT NOT NULL, email TEXT NOT NULL,
      password_hash TEXT NOT NULL);
    CREATE TABLE lucia_session (id TEXT NOT NULL PRIMARY KEY, expires_at INTEGER NOT NULL,
      user_id TEXT NOT NULL REFERENCES lucia_user(id))`)
  const now = Date.now()
  const expiresAt = now + 30 * 24 * 3600 * 1000
  const insertUser = db.prepare(`INSERT INTO userharbor_users (id, username, username_key, email, email_key,
    password_hash, password_version, verified, created_at) VALUES (?, ?, ?, ?, ?, ?, 1, 1, ?)`)
  const insertSession = db.prepare(`INSERT INTO userharbor_sessions (token_hash, id, user_id, created_at,
    expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)`)
  const insertLuciaUser = db.prepare("INSERT INTO lucia_user (id, username, email, password_hash) VALUES (?, ?, ?, ?)")
  const insertLuciaSession = db.prepare("INSERT INTO lucia_session (id, expires_at, user_id) VALUES (?, ?, ?)")
  const users = Math.ceil(sessions / sessionsPerUser)
  const fill = db.transaction((fromUser: number, toUser: number) => {
    for (let u = fromUser; u < toUser; u++) {
      insertUser.run(userIdFor(u), `user${u}`, `user${u}`, emailFor(u), emailFor(u), hash, now)
      insertLuciaUser.run(userIdFor(u), `user${u}`, emailFor(u), hash)
      for (let k = 0; k < sessionsPerUser; k++) {
        const i = u * sessionsPerUser + k
        if (i >= sessions) break
        const token = tokenFor(i)
        insertSession.run(hashToken(token), `s${String(i).padStart(31, "0")}`, userIdFor(u), now, expiresAt, now)
        // Lucia v3 keeps the session id itself (no hash); its expiry is in seconds.
        insertLuciaSession.run(token, Math.floor(expiresAt / 1000), userIdFor(u))
      }
    }
  })
  for (let u = 0; u < users; u += 10_000) fill(u, Math.min(users, u + 10_000))
  db.pragma("wal_checkpoint(TRUNCATE)")
  db.exec("ANALYZE")
  db.close()
  lastSeedSeconds = Math.round((performance.now() - started) / 100) / 10
  return filename
}

/**
 * What the raw baseline reads: exactly what `validateSession` returns or needs for its expiry rules (session id,
 * user id, the three instants, username, email, verified, the user's creation), never the password hash.
 */
export const sessionQuery = `SELECT s.id, s.user_id, s.created_at, s.expires_at, s.last_used_at,
  u.username, u.email, u.verified, u.created_at AS user_created_at
  FROM userharbor_sessions s JOIN userharbor_users u ON u.id = s.user_id WHERE s.token_hash = `

const tokenShape = /^[A-Za-z0-9_-]{43}$/

/**
 * The raw baseline: the minimal correct hand-written session check on SQLite. Checks the token's shape, hashes
 * it (HMAC-SHA256 under a `KeyObject`), runs one prepared statement, checks expiry, and returns the row.
 */
export const rawSqliteCheck = (filename: string) => {
  const db = new Database(filename, { readonly: true })
  const statement = db.prepare(`${sessionQuery}?`)
  const check = (token: string): unknown => {
    if (!tokenShape.test(token)) return undefined
    const row: unknown = statement.get(hashToken(token))
    return typeof row === "object" && row !== null && "expires_at" in row && typeof row.expires_at === "number" &&
        row.expires_at > Date.now()
      ? row
      : undefined
  }
  // The same check as the library's reader makes it: two point reads instead of the join (on SQLite they cost
  // less) on a connection with memory-mapped reads (docs/performance.md). Reported beside the targets, as the floor
  // for that way of reading; the targets compare with the minimal check above.
  const mapped = new Database(filename, { readonly: true })
  mapped.pragma("mmap_size = 1073741824")
  const session = mapped.prepare(`SELECT id, user_id, created_at, expires_at, last_used_at FROM userharbor_sessions
    WHERE token_hash = ?`)
  const user = mapped.prepare("SELECT username, email, verified, created_at FROM userharbor_users WHERE id = ?")
  const checkTwoReads = (token: string): unknown => {
    if (!tokenShape.test(token)) return undefined
    const row: unknown = session.get(hashToken(token))
    if (typeof row !== "object" || row === null || !("expires_at" in row) || !("user_id" in row)) return undefined
    return typeof row.expires_at === "number" && row.expires_at > Date.now() ? user.get(row.user_id) : undefined
  }
  return {
    check,
    checkTwoReads,
    close: (): void => {
      db.close()
      mapped.close()
    }
  }
}

const makeLucia = (db: Database.Database) =>
  new Lucia(new BetterSqlite3Adapter(db, { user: "lucia_user", session: "lucia_session" }), {
    getUserAttributes: (attributes) => ({ username: attributes.username, email: attributes.email })
  })

declare module "lucia" {
  interface Register {
    Lucia: ReturnType<typeof makeLucia>
    DatabaseUserAttributes: { readonly username: string; readonly email: string }
  }
}

/**
 * Lucia v3 (`lucia` 3.2 with `@lucia-auth/adapter-sqlite`'s better-sqlite3 driver) on the same file: its
 * `validateSession`, as its guides call it per request. Read-write, as Lucia needs (it extends fresh sessions).
 */
export const luciaSqliteCheck = (filename: string) => {
  const db = new Database(filename)
  db.pragma("journal_mode = WAL")
  const lucia = makeLucia(db)
  const check = async (token: string) => {
    const { session, user } = await lucia.validateSession(token)
    return session !== null && user !== null ? { session, user } : undefined
  }
  return { check, close: (): void => void db.close() }
}

// Mail goes nowhere: a recording sender would keep every message and grow during the register benchmark.
const silentSender = Layer.succeed(EmailSender, EmailSender.of({ send: () => Effect.void }))

/** The library's services around a store layer: real argon2 at default parameters, real random bytes. */
export const harborLayer = <E>(
  store: Layer.Layer<UserStore | CounterStore, E>,
  limits: Partial<PasswordHasher.Limits> = {}
) =>
  UserHarbor.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      store,
      silentSender,
      SecureRandom.layer,
      PasswordHasher.layer(argon2Options, limits),
      UserHarborConfig.layer({ secretKey })
    ))
  )

/** A `ManagedRuntime` of the library on a SQLite file (optionally with the session cache), and its service. */
export const sqliteHarbor = async (
  filename: string,
  options: { readonly cache?: boolean; readonly limits?: Partial<PasswordHasher.Limits> } = {}
) => {
  const store = SqliteUserStore.layer({ filename })
  const runtime = ManagedRuntime.make(
    harborLayer(options.cache === true ? SessionCache.layer().pipe(Layer.provideMerge(store)) : store, options.limits)
  )
  const harbor = await runtime.runPromise(UserHarbor.UserHarbor)
  return { runtime, harbor }
}
