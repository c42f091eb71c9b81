/**
 * What the scenarios share: the secret key, deterministic session tokens, SQLite files seeded with N sessions
 * (reused between runs: seeding a million rows takes a while), the library wired on a store, and the raw
 * baseline's session check (HMAC + one prepared statement).
 */
import * as argon2 from "argon2"
import Database from "better-sqlite3"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { createHmac, createSecretKey } from "node:crypto"
import { existsSync, mkdirSync, rmSync } from "node:fs"
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

/**
 * A SQLite file with `sessions` live sessions (`sessionsPerUser` per user), built through the library's migrations
 * and filled with raw inserts. Reused when it already holds that many.
 */
export const seedSqlite = async (sessions: number): Promise<string> => {
  mkdirSync(dataDir, { recursive: true })
  const filename = `${dataDir}/sessions-${sessions}.db`
  if (existsSync(filename)) {
    const db = new Database(filename, { readonly: true })
    const row: unknown = db.prepare("SELECT COUNT(*) AS n FROM userharbor_sessions").get()
    db.close()
    if (typeof row === "object" && row !== null && "n" in row && row.n === sessions) return filename
  }
  for (const suffix of ["", "-wal", "-shm"]) rmSync(filename + suffix, { force: true })
  await migrate(filename)
  const hash = await passwordHash()
  const db = new Database(filename)
  db.pragma("journal_mode = WAL")
  const now = Date.now()
  const expiresAt = now + 30 * 24 * 3600 * 1000
  const insertUser = db.prepare(`INSERT INTO userharbor_users (id, username, username_key, email, email_key,
    password_hash, password_version, verified, created_at) VALUES (?, ?, ?, ?, ?, ?, 1, 1, ?)`)
  const insertSession = db.prepare(`INSERT INTO userharbor_sessions (token_hash, id, user_id, created_at,
    expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)`)
  const users = Math.ceil(sessions / sessionsPerUser)
  const fill = db.transaction((fromUser: number, toUser: number) => {
    for (let u = fromUser; u < toUser; u++) {
      insertUser.run(userIdFor(u), `user${u}`, `user${u}`, emailFor(u), emailFor(u), hash, now)
      for (let k = 0; k < sessionsPerUser; k++) {
        const i = u * sessionsPerUser + k
        if (i >= sessions) break
        insertSession.run(hashToken(tokenFor(i)), `s${String(i).padStart(31, "0")}`, userIdFor(u), now, expiresAt, now)
      }
    }
  })
  for (let u = 0; u < users; u += 10_000) fill(u, Math.min(users, u + 10_000))
  db.pragma("wal_checkpoint(TRUNCATE)")
  db.exec("ANALYZE")
  db.close()
  return filename
}

/** The columns the library's session look-up returns, so the baseline reads as much as the library does. */
export const sessionQuery = `SELECT u.id, u.username, u.username_key, u.email, u.email_key, u.password_hash,
  u.password_version, u.verified, u.created_at, s.id AS session_id, s.token_hash, s.user_id,
  s.created_at AS session_created_at, s.expires_at, s.last_used_at
  FROM userharbor_sessions s JOIN userharbor_users u ON u.id = s.user_id WHERE s.token_hash = `

const tokenShape = /^[A-Za-z0-9_-]{43}$/

/**
 * The raw baseline: the simplest correct hand-written session check on SQLite. Checks the token's shape, hashes
 * it, runs one prepared statement, checks expiry.
 */
export const rawSqliteCheck = (filename: string) => {
  const db = new Database(filename, { readonly: true })
  const statement = db.prepare(`${sessionQuery}?`)
  const check = (token: string): boolean => {
    if (!tokenShape.test(token)) return false
    const row: unknown = statement.get(hashToken(token))
    return typeof row === "object" && row !== null && "expires_at" in row && typeof row.expires_at === "number" &&
      row.expires_at > Date.now()
  }
  return { check, close: (): void => void db.close() }
}

// Mail goes nowhere: a recording sender would keep every message and grow during the register benchmark.
const silentSender = Layer.succeed(EmailSender, EmailSender.of({ send: () => Effect.void }))

/** The library's services around a store layer: real argon2 at default parameters, real random bytes. */
export const harborLayer = <E>(store: Layer.Layer<UserStore, E>, limits: Partial<PasswordHasher.Limits> = {}) =>
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
    harborLayer(options.cache === true ? SessionCache.layer().pipe(Layer.provide(store)) : store, options.limits)
  )
  const harbor = await runtime.runPromise(UserHarbor.UserHarbor)
  return { runtime, harbor }
}
