/**
 * The SQL schema of `SqlUserStore`, as versioned migrations for `@effect/sql`'s `Migrator`.
 *
 * They are recorded in their own table, `userharbor_migrations`: the Migrator runs only ids above the latest one
 * recorded, so sharing the app's `effect_sql_migrations` table would silently skip ours (or the app's). Run them
 * alone with `run` (or `layer`), or let `SqlUserStore.layer` run them when it is built. Running them again is a
 * no-op. Released migrations are never edited: a change to the schema is a new migration.
 *
 * Tables (instants are `BIGINT` epoch milliseconds, so no driver can hand back an ambiguous local time):
 * - `userharbor_users`: unique `username_key` and `email_key` (the case-folded forms).
 * - `userharbor_sessions`: keyed by `token_hash`, `ON DELETE CASCADE` from users, indexed by user and expiry.
 * - `userharbor_tokens`: keyed by `(token_hash, purpose)`, one row per `(user_id, purpose)`, cascade from users.
 * - `userharbor_outbox` (0003): the email outbox, keyed by `id`, indexed by `next_attempt_at`; no foreign key, so
 *   a notice outlives the account it is about. `lease_until` is 0 while a row is not claimed.
 * - `userharbor_counters` (0002): throttling counters keyed by `counter_key`, indexed by `updated_at` for purging.
 * - 0004 changes no table: it recomputes every `username_key` as the confusable skeleton (see `rekeyUsernames`).
 * - 0005 indexes `userharbor_users` by `(verified, created_at)`, for purging expired unverified accounts.
 * - 0006, second factors and passkeys (the `FactorStore` port), every table `ON DELETE CASCADE` from users:
 *   `userharbor_totp` (one row per user, the sealed secret, pending or active, the last accepted time step),
 *   `userharbor_recovery_codes` (keyed by `(user_id, code_hash)`), `userharbor_login_challenges` (keyed by
 *   `token_hash`), `userharbor_passkeys` (keyed by `credential_id`, base64url, up to WebAuthn's 1023 bytes; the
 *   public key as base64url text, the transports as a JSON array) and `userharbor_webauthn_challenges` (keyed by
 *   `(token_hash, ceremony)`, the user optional). Challenges are indexed by expiry for purging.
 * - 0009, account administration (the `AccountAdminStore` port): `userharbor_account_locks` (one row per locked
 *   user, `ON DELETE CASCADE` from users: the reason, the acting admin's id, when), and an index of
 *   `userharbor_users` by `(created_at, id)`, the directory's keyset order (on PostgreSQL the id in the "C"
 *   collation, so the order is bytewise on every database).
 *
 * On MySQL and MariaDB every `CREATE TABLE` commits implicitly, so a migration that fails half-way is not rolled
 * back there; PostgreSQL and SQLite run pending migrations in one transaction.
 *
 * @since 0.1.0
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { StoreError } from "./Errors.js"
import { migrateReason } from "./internal/connectFailure.js"
import { catchStoreFailures, isSqlError, toStoreError } from "./internal/sqlErrors.js"
import * as Username from "./Username.js"

/**
 * The table that records which of our migrations ran.
 *
 * @since 0.1.0
 * @category constants
 */
export const table = "userharbor_migrations"

// Column sizes follow the validation limits and MariaDB's 3072-byte index limit (4 bytes per utf8mb4 character):
// a username is at most 64 code points, its canonical key at most 768 (`Username.maxKeyLength`: case folding and
// NFKC can lengthen it, and validation refuses a name whose key would not fit, such as 43 or more `ﷺ`); an address
// is at most 254 code points and its lower-cased key at most 3 times that.
interface Dialect {
  /** Binary comparison for keys (MySQL's default collations ignore case and accents). */
  readonly key: string
  /** ASCII columns: ids and token hashes. */
  readonly ascii: string
  readonly boolean: string
  readonly tableOptions: string
}

const portable: Dialect = { key: "", ascii: "", boolean: "BOOLEAN", tableOptions: "" }

const mysql: Dialect = {
  key: " COLLATE utf8mb4_bin",
  ascii: " CHARACTER SET ascii COLLATE ascii_bin",
  boolean: "BOOLEAN",
  tableOptions: " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
}

const createTables = (d: Dialect): ReadonlyArray<string> => [
  `CREATE TABLE userharbor_users (
  id VARCHAR(64)${d.ascii} NOT NULL PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  username_key VARCHAR(768)${d.key} NOT NULL,
  email VARCHAR(254) NOT NULL,
  email_key VARCHAR(762)${d.key} NOT NULL,
  password_hash TEXT NOT NULL,
  password_version INTEGER NOT NULL,
  verified ${d.boolean} NOT NULL,
  created_at BIGINT NOT NULL,
  CONSTRAINT userharbor_users_username_key UNIQUE (username_key),
  CONSTRAINT userharbor_users_email_key UNIQUE (email_key)
)${d.tableOptions}`,
  `CREATE TABLE userharbor_sessions (
  token_hash VARCHAR(128)${d.ascii} NOT NULL PRIMARY KEY,
  id VARCHAR(64)${d.ascii} NOT NULL,
  user_id VARCHAR(64)${d.ascii} NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  CONSTRAINT userharbor_sessions_id UNIQUE (id),
  CONSTRAINT userharbor_sessions_user FOREIGN KEY (user_id) REFERENCES userharbor_users (id) ON DELETE CASCADE
)${d.tableOptions}`,
  "CREATE INDEX userharbor_sessions_user_id ON userharbor_sessions (user_id)",
  "CREATE INDEX userharbor_sessions_expires_at ON userharbor_sessions (expires_at)",
  `CREATE TABLE userharbor_tokens (
  token_hash VARCHAR(128)${d.ascii} NOT NULL,
  purpose VARCHAR(32)${d.ascii} NOT NULL,
  user_id VARCHAR(64)${d.ascii} NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (token_hash, purpose),
  CONSTRAINT userharbor_tokens_user_purpose UNIQUE (user_id, purpose),
  CONSTRAINT userharbor_tokens_user FOREIGN KEY (user_id) REFERENCES userharbor_users (id) ON DELETE CASCADE
)${d.tableOptions}`,
  "CREATE INDEX userharbor_tokens_expires_at ON userharbor_tokens (expires_at)"
]

// Login failure and mail counters: keys are ASCII (`login:<hmac>`, `mail:<purpose>:<user id>`).
const createCounters = (d: Dialect): ReadonlyArray<string> => [
  `CREATE TABLE userharbor_counters (
  counter_key VARCHAR(128)${d.ascii} NOT NULL PRIMARY KEY,
  hits BIGINT NOT NULL,
  window_start BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)${d.tableOptions}`,
  "CREATE INDEX userharbor_counters_updated_at ON userharbor_counters (updated_at)"
]

const statementsMigration = (statements: (d: Dialect, idOrder: string) => ReadonlyArray<string>) =>
  Effect.gen(function*() {
    // Our own DDL, no input: `unsafe` only because the statements are built from the dialect's fragments.
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    // How an index orders ids bytewise, as the store's keyset queries compare them.
    const idOrder = sql.onDialectOrElse({ pg: () => `id COLLATE "C"`, orElse: () => "id" })
    const all = statements(sql.onDialectOrElse({ mysql: () => mysql, orElse: () => portable }), idOrder)
    yield* Effect.forEach(all, (statement) => sql.unsafe(statement), { discard: true })
  })

const createOutbox = (d: Dialect): ReadonlyArray<string> => [
  `CREATE TABLE userharbor_outbox (
  id VARCHAR(64)${d.ascii} NOT NULL PRIMARY KEY,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  claimed_by VARCHAR(64)${d.ascii},
  lease_until BIGINT NOT NULL
)${d.tableOptions}`,
  "CREATE INDEX userharbor_outbox_next_attempt_at ON userharbor_outbox (next_attempt_at)"
]

// WebAuthn caps a credential id at 1023 bytes: 1364 base64url characters, an ASCII key that fits MariaDB's index.
const createFactors = (d: Dialect): ReadonlyArray<string> => [
  `CREATE TABLE userharbor_totp (
  user_id VARCHAR(64)${d.ascii} NOT NULL PRIMARY KEY,
  secret TEXT NOT NULL,
  active ${d.boolean} NOT NULL,
  last_step BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  activated_at BIGINT,
  CONSTRAINT userharbor_totp_user FOREIGN KEY (user_id) REFERENCES userharbor_users (id) ON DELETE CASCADE
)${d.tableOptions}`,
  `CREATE TABLE userharbor_recovery_codes (
  user_id VARCHAR(64)${d.ascii} NOT NULL,
  code_hash VARCHAR(128)${d.ascii} NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, code_hash),
  CONSTRAINT userharbor_recovery_codes_user FOREIGN KEY (user_id) REFERENCES userharbor_users (id) ON DELETE CASCADE
)${d.tableOptions}`,
  `CREATE TABLE userharbor_login_challenges (
  token_hash VARCHAR(128)${d.ascii} NOT NULL PRIMARY KEY,
  user_id VARCHAR(64)${d.ascii} NOT NULL,
  password_version INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  CONSTRAINT userharbor_login_challenges_user FOREIGN KEY (user_id) REFERENCES userharbor_users (id)
    ON DELETE CASCADE
)${d.tableOptions}`,
  "CREATE INDEX userharbor_login_challenges_user_id ON userharbor_login_challenges (user_id)",
  "CREATE INDEX userharbor_login_challenges_expires_at ON userharbor_login_challenges (expires_at)",
  `CREATE TABLE userharbor_passkeys (
  credential_id VARCHAR(1400)${d.ascii} NOT NULL PRIMARY KEY,
  user_id VARCHAR(64)${d.ascii} NOT NULL,
  public_key TEXT NOT NULL,
  counter BIGINT NOT NULL,
  transports TEXT NOT NULL,
  device_type VARCHAR(16)${d.ascii} NOT NULL,
  backed_up ${d.boolean} NOT NULL,
  name VARCHAR(255) NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  CONSTRAINT userharbor_passkeys_user FOREIGN KEY (user_id) REFERENCES userharbor_users (id) ON DELETE CASCADE
)${d.tableOptions}`,
  "CREATE INDEX userharbor_passkeys_user_id ON userharbor_passkeys (user_id)",
  `CREATE TABLE userharbor_webauthn_challenges (
  token_hash VARCHAR(128)${d.ascii} NOT NULL,
  ceremony VARCHAR(16)${d.ascii} NOT NULL,
  user_id VARCHAR(64)${d.ascii},
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (token_hash, ceremony),
  CONSTRAINT userharbor_webauthn_challenges_user FOREIGN KEY (user_id) REFERENCES userharbor_users (id)
    ON DELETE CASCADE
)${d.tableOptions}`,
  "CREATE INDEX userharbor_webauthn_challenges_user_id ON userharbor_webauthn_challenges (user_id)",
  "CREATE INDEX userharbor_webauthn_challenges_expires_at ON userharbor_webauthn_challenges (expires_at)"
]

// A reason is at most 500 UTF-16 code units and an actor id 200 (`UserHarborAdmin`'s limits): never more
// characters than that. Neither is a key, so both keep the table's utf8mb4 on MySQL.
const createAccountAdmin = (d: Dialect, idOrder: string): ReadonlyArray<string> => [
  `CREATE TABLE userharbor_account_locks (
  user_id VARCHAR(64)${d.ascii} NOT NULL PRIMARY KEY,
  reason VARCHAR(500) NOT NULL,
  actor_id VARCHAR(200) NOT NULL,
  locked_at BIGINT NOT NULL,
  CONSTRAINT userharbor_account_locks_user FOREIGN KEY (user_id) REFERENCES userharbor_users (id) ON DELETE CASCADE
)${d.tableOptions}`,
  `CREATE INDEX userharbor_users_directory ON userharbor_users (created_at, ${idOrder})`
]

// What a key is replaced with when its row cannot have the new one: no name's key starts with U+FFFF (a
// noncharacter, which validation refuses), and the id keeps it unique.
const unreachableKey = (id: string) => `\uFFFF${id}`

const LegacyUser = Schema.Struct({ id: Schema.String, username: Schema.String, username_key: Schema.String })
const decodeLegacyUsers = Schema.decodeUnknown(Schema.Array(LegacyUser))

/**
 * 0004: usernames are keyed by their confusable skeleton (`Username.canonical`), which SQL cannot compute, so the
 * keys are recomputed here from each stored name. Names that now collide (a look-alike that an earlier version let
 * in) keep their key for the oldest account; the others get a key no name can have, so they log in by email
 * address until renamed. Every changed row first gets a temporary key, so no intermediate state collides.
 */
const rekeyUsernames = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const rows = yield* sql`SELECT id, username, username_key FROM userharbor_users ORDER BY created_at, id`.pipe(
    Effect.flatMap(decodeLegacyUsers),
    Effect.orDie
  )
  const claimed = new Set<string>()
  const changed: Array<{ readonly id: string; readonly key: string }> = []
  for (const row of rows) {
    const wanted = Username.canonical(row.username)
    const key = claimed.has(wanted) || [...wanted].length > Username.maxKeyLength ? unreachableKey(row.id) : wanted
    claimed.add(key)
    if (key !== row.username_key) changed.push({ id: row.id, key })
  }
  for (const { id } of changed) {
    yield* sql`UPDATE userharbor_users SET username_key = ${`${unreachableKey(id)}~`} WHERE id = ${id}`
  }
  for (const { id, key } of changed) {
    yield* sql`UPDATE userharbor_users SET username_key = ${key} WHERE id = ${id}`
  }
  if (changed.some(({ id, key }) => key === unreachableKey(id))) {
    yield* Effect.logWarning("UserHarbor: look-alike usernames found; the newer accounts log in by email address")
  }
})

/**
 * The migrations, for an app that runs them through its own `Migrator` call (with `table` as the table).
 *
 * @since 0.1.0
 * @category migrations
 */
export const loader: Migrator.Loader = Migrator.fromRecord({
  "0001_create_tables": statementsMigration(createTables),
  "0002_throttling": statementsMigration(createCounters),
  "0003_outbox": statementsMigration(createOutbox),
  "0004_username_skeleton": rekeyUsernames,
  "0005_unverified_index": statementsMigration(() => [
    "CREATE INDEX userharbor_users_unverified ON userharbor_users (verified, created_at)"
  ]),
  "0006_second_factors": statementsMigration(createFactors),
  "0009_account_admin": statementsMigration(createAccountAdmin)
})

// The database's own failures: a SqlError, or the Migrator's error around one.
const isMigrateFailure = (u: unknown): u is SqlError | Migrator.MigrationError =>
  isSqlError(u) || u instanceof Migrator.MigrationError

/**
 * Runs the pending migrations and returns the ones it ran (none when the schema is current). Failures are
 * `StoreError`s whose message names no SQL.
 *
 * @since 0.1.0
 * @category migrations
 */
export const run: Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, StoreError, SqlClient.SqlClient> =
  Effect.gen(function*() {
    // The app's name transforms must not rename our tables or the Migrator's columns.
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    return yield* Migrator.make({})({ loader, table }).pipe(
      Effect.provideService(SqlClient.SqlClient, sql),
      // A failed migration is a defect in the Migrator, and so is a failed COMMIT; both hold the database's error,
      // which is a store failure (connection lost, permissions), not a bug here.
      catchStoreFailures(isMigrateFailure, toStoreError("migrate", migrateReason))
    )
  })

/**
 * Runs the pending migrations when built.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, StoreError, SqlClient.SqlClient> = Layer.effectDiscard(run)
