/**
 * `SqlUserStore`'s `FactorStore`: the statements and rows of migration 0006, on the client and transaction of the
 * store's other ports. Every atomic step the port promises is one statement (an `UPDATE … WHERE` on the value
 * being replaced, a `DELETE` whose affected rows decide), except where MySQL lacks `DELETE … RETURNING` or a
 * conditional upsert: there a locking read and the write, in one transaction.
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { FactorStore, type FactorStoreService, type PasskeyRecord, type WebAuthnCeremony } from "../FactorStore.js"
import { UserId } from "../User.js"
import { TokenHash } from "../UserStore.js"
import * as SqlErrors from "./sqlErrors.js"
import { Bool, decodeAffected, Integer } from "./sqlRows.js"
import { consumer, type Deps, purgeExpiredRows } from "./sqlShared.js"

const column = <S extends Schema.Schema.Any>(schema: S, name: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(name))

const TotpRow = Schema.Struct({
  userId: column(UserId, "user_id"),
  secret: Schema.String,
  active: Bool,
  lastStep: column(Integer, "last_step"),
  createdAt: column(Integer, "created_at"),
  activatedAt: column(Schema.OptionFromNullOr(Integer), "activated_at")
})
const totpColumns = "user_id, secret, active, last_step, created_at, activated_at"

const LoginChallengeRow = Schema.Struct({
  tokenHash: column(TokenHash, "token_hash"),
  userId: column(UserId, "user_id"),
  passwordVersion: column(Integer, "password_version"),
  createdAt: column(Integer, "created_at"),
  expiresAt: column(Integer, "expires_at")
})
const loginChallengeColumns = "token_hash, user_id, password_version, created_at, expires_at"

const PasskeyRow = Schema.Struct({
  credentialId: column(Schema.String, "credential_id"),
  userId: column(UserId, "user_id"),
  publicKey: column(Schema.Uint8ArrayFromBase64Url, "public_key"),
  counter: Integer,
  transports: Schema.parseJson(Schema.Array(Schema.String)),
  deviceType: column(Schema.Literal("singleDevice", "multiDevice"), "device_type"),
  backedUp: column(Bool, "backed_up"),
  name: Schema.String,
  createdAt: column(Integer, "created_at"),
  lastUsedAt: column(Schema.OptionFromNullOr(Integer), "last_used_at")
})
const passkeyColumns =
  "credential_id, user_id, public_key, counter, transports, device_type, backed_up, name, created_at, last_used_at"
const encodePasskey = Schema.encodeSync(PasskeyRow)

const WebAuthnChallengeRow = Schema.Struct({
  tokenHash: column(TokenHash, "token_hash"),
  ceremony: Schema.Literal("registration", "authentication"),
  userId: column(Schema.OptionFromNullOr(UserId), "user_id"),
  createdAt: column(Integer, "created_at"),
  expiresAt: column(Integer, "expires_at")
})
const webAuthnChallengeColumns = "token_hash, ceremony, user_id, created_at, expires_at"

const CountRow = Schema.Struct({ n: Integer })

// A row the database returned in an impossible shape is a bug or a corrupt database: a defect.
const decodeRows = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknown(Schema.Array(schema))
  return (rows: unknown) => Effect.orDie(decode(rows))
}
const decodeTotp = decodeRows(TotpRow)
const decodeLoginChallenges = decodeRows(LoginChallengeRow)
const decodePasskeys = decodeRows(PasskeyRow)
const decodeWebAuthnChallenges = decodeRows(WebAuthnChallengeRow)
const decodeCount = decodeRows(CountRow)

const first = <A>(rows: ReadonlyArray<A>): Option.Option<A> => Option.fromNullable(rows[0])

// What the `VARCHAR(1400)` ASCII credential id column can hold, and every id a browser sends (base64url): an id of
// any other shape is no passkey's, and never reaches the SQL (MariaDB refuses non-ASCII against an ASCII column).
const storableCredentialId = /^[A-Za-z0-9_-]{1,1400}$/
const isStorableCredentialId = (id: string): boolean => storableCredentialId.test(id)

export const make = (deps: Deps): FactorStoreService => {
  const { sql, transaction } = deps
  const storeError = SqlErrors.failStore
  const affected = (operation: string, statement: Effect.Effect<unknown, SqlError>) =>
    statement.pipe(Effect.flatMap(decodeAffected), Effect.catchTag("SqlError", storeError(operation)))
  const changed = (operation: string, statement: Effect.Effect<unknown, SqlError>) =>
    Effect.map(affected(operation, statement), (n) => n > 0)
  const select = <A>(
    operation: string,
    statement: Effect.Effect<ReadonlyArray<unknown>, SqlError>,
    decode: (rows: unknown) => Effect.Effect<ReadonlyArray<A>>
  ) => statement.pipe(Effect.flatMap(decode), Effect.catchTag("SqlError", storeError(operation)))

  const literal = (columns: string) => sql.literal(columns)
  const consume = consumer(deps)
  const purge = purgeExpiredRows(sql)

  const putPendingTotp: FactorStoreService["putPendingTotp"] = ({ createdAt, secret, userId }) => {
    const values = sql.insert({
      user_id: userId,
      secret,
      active: 0,
      last_step: 0,
      created_at: createdAt,
      activated_at: null
    })
    return sql.onDialectOrElse({
      // No conditional upsert: a locking read of the user's row (or its gap), then the write, in one transaction.
      mysql: () =>
        transaction("putPendingTotp")(Effect.gen(function*() {
          const rows = yield* Effect.flatMap(
            sql`SELECT ${literal(totpColumns)} FROM userharbor_totp WHERE user_id = ${userId} FOR UPDATE`,
            decodeTotp
          )
          if (rows.some((row) => row.active)) return false
          yield* sql`INSERT INTO userharbor_totp ${values} ON DUPLICATE KEY UPDATE secret = VALUES(secret),
            last_step = 0, created_at = VALUES(created_at), activated_at = NULL`
          return true
        })),
      // The upsert's `WHERE` keeps an active factor, in the same statement.
      orElse: () =>
        changed(
          "putPendingTotp",
          sql`INSERT INTO userharbor_totp ${values} ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret,
            last_step = 0, created_at = excluded.created_at, activated_at = NULL
            WHERE userharbor_totp.active = FALSE`.raw
        )
    })
  }

  const passkeyWhere = (userId: UserId, credentialId: string) =>
    sql`user_id = ${userId} AND credential_id = ${credentialId}`

  // The port orders passkeys by `createdAt`, then `credentialId` bytewise (PostgreSQL would use the locale).
  const credentialOrder = sql.onDialectOrElse({
    pg: () => sql`credential_id COLLATE "C"`,
    orElse: () => sql`credential_id`
  })

  const insertPasskey = (passkey: PasskeyRecord) => {
    const row = encodePasskey(passkey)
    // Its own savepoint, so that on PostgreSQL a duplicate id leaves the caller's transaction usable.
    return sql.withTransaction(
      sql`INSERT INTO userharbor_passkeys ${
        sql.insert({
          credential_id: row.credential_id,
          user_id: row.user_id,
          public_key: row.public_key,
          counter: row.counter,
          transports: row.transports,
          device_type: row.device_type,
          backed_up: passkey.backedUp ? 1 : 0,
          name: row.name,
          created_at: row.created_at,
          last_used_at: row.last_used_at
        })
      }`
    ).pipe(
      Effect.as(true),
      Effect.catchTag("SqlError", (error) =>
        SqlErrors.classify(error) === "UniqueViolation"
          ? Effect.succeed(false)
          : storeError("insertPasskey")(error)),
      SqlErrors.orStoreError("insertPasskey")
    )
  }

  const webAuthnWhere = (ceremony: WebAuthnCeremony, tokenHash: TokenHash) =>
    sql`token_hash = ${tokenHash} AND ceremony = ${ceremony}`

  return FactorStore.of({
    findTotp: (userId) =>
      select(
        "findTotp",
        sql`SELECT ${literal(totpColumns)} FROM userharbor_totp WHERE user_id = ${userId}`,
        decodeTotp
      ).pipe(Effect.map(first)),
    putPendingTotp,
    activateTotp: ({ now, secret, step, userId }) =>
      changed(
        "activateTotp",
        sql`UPDATE userharbor_totp SET active = TRUE, last_step = ${step}, activated_at = ${now}
          WHERE user_id = ${userId} AND active = FALSE AND secret = ${secret}`.raw
      ),
    acceptTotpStep: ({ step, userId }) =>
      changed(
        "acceptTotpStep",
        sql`UPDATE userharbor_totp SET last_step = ${step}
          WHERE user_id = ${userId} AND active = TRUE AND last_step < ${step}`.raw
      ),
    deleteTotp: (userId) => changed("deleteTotp", sql`DELETE FROM userharbor_totp WHERE user_id = ${userId}`.raw),

    replaceRecoveryCodes: ({ codeHashes, createdAt, userId }) =>
      transaction("replaceRecoveryCodes")(Effect.gen(function*() {
        yield* sql`DELETE FROM userharbor_recovery_codes WHERE user_id = ${userId}`
        if (codeHashes.length === 0) return
        yield* sql`INSERT INTO userharbor_recovery_codes ${
          sql.insert(codeHashes.map((codeHash) => ({ user_id: userId, code_hash: codeHash, created_at: createdAt })))
        }`
      })),
    // One DELETE: a concurrent one waits for its row lock, then finds nothing to delete.
    consumeRecoveryCode: (userId, codeHash) =>
      affected(
        "consumeRecoveryCode",
        sql`DELETE FROM userharbor_recovery_codes WHERE user_id = ${userId} AND code_hash = ${codeHash}`.raw
      ).pipe(Effect.map((n) => n === 1)),
    countRecoveryCodes: (userId) =>
      select(
        "countRecoveryCodes",
        sql`SELECT COUNT(*) AS n FROM userharbor_recovery_codes WHERE user_id = ${userId}`,
        decodeCount
      ).pipe(Effect.map((rows) => rows[0]?.n ?? 0)),
    deleteRecoveryCodes: (userId) =>
      affected("deleteRecoveryCodes", sql`DELETE FROM userharbor_recovery_codes WHERE user_id = ${userId}`.raw).pipe(
        Effect.asVoid
      ),

    insertLoginChallenge: (challenge) =>
      sql`INSERT INTO userharbor_login_challenges ${
        sql.insert({
          token_hash: challenge.tokenHash,
          user_id: challenge.userId,
          password_version: challenge.passwordVersion,
          created_at: challenge.createdAt,
          expires_at: challenge.expiresAt
        })
      }`.pipe(Effect.asVoid, Effect.catchTag("SqlError", storeError("insertLoginChallenge"))),
    findLoginChallenge: (tokenHash) =>
      select(
        "findLoginChallenge",
        sql`SELECT ${literal(loginChallengeColumns)} FROM userharbor_login_challenges
          WHERE token_hash = ${tokenHash}`,
        decodeLoginChallenges
      ).pipe(Effect.map(first)),
    consumeLoginChallenge: (tokenHash) =>
      consume(
        "consumeLoginChallenge",
        "userharbor_login_challenges",
        loginChallengeColumns,
        sql`token_hash = ${tokenHash}`,
        decodeLoginChallenges
      ),

    insertPasskey,
    findPasskey: (credentialId) =>
      isStorableCredentialId(credentialId)
        ? select(
          "findPasskey",
          sql`SELECT ${literal(passkeyColumns)} FROM userharbor_passkeys WHERE credential_id = ${credentialId}`,
          decodePasskeys
        ).pipe(Effect.map(first))
        : Effect.succeed(Option.none()),
    listPasskeys: (userId) =>
      select(
        "listPasskeys",
        sql`SELECT ${literal(passkeyColumns)} FROM userharbor_passkeys WHERE user_id = ${userId}
          ORDER BY created_at, ${credentialOrder}`,
        decodePasskeys
      ),
    // Counter 0 is accepted again only from an authenticator that never counts (its stored counter is 0 too).
    recordPasskeyUse: ({ backedUp, counter, credentialId, lastUsedAt }) =>
      isStorableCredentialId(credentialId)
        ? changed(
          "recordPasskeyUse",
          sql`UPDATE userharbor_passkeys SET counter = ${counter}, backed_up = ${backedUp ? 1 : 0},
            last_used_at = ${lastUsedAt}
            WHERE credential_id = ${credentialId} AND ${counter === 0 ? sql`counter = 0` : sql`counter < ${counter}`}`
            .raw
        )
        : Effect.succeed(false),
    renamePasskey: (userId, credentialId, name) =>
      isStorableCredentialId(credentialId)
        ? changed(
          "renamePasskey",
          sql`UPDATE userharbor_passkeys SET name = ${name} WHERE ${passkeyWhere(userId, credentialId)}`.raw
        )
        : Effect.succeed(false),
    deletePasskey: (userId, credentialId) =>
      isStorableCredentialId(credentialId)
        ? changed(
          "deletePasskey",
          sql`DELETE FROM userharbor_passkeys WHERE ${passkeyWhere(userId, credentialId)}`.raw
        )
        : Effect.succeed(false),

    insertWebAuthnChallenge: (challenge) =>
      sql`INSERT INTO userharbor_webauthn_challenges ${
        sql.insert({
          token_hash: challenge.tokenHash,
          ceremony: challenge.ceremony,
          user_id: Option.getOrNull(challenge.userId),
          created_at: challenge.createdAt,
          expires_at: challenge.expiresAt
        })
      }`.pipe(Effect.asVoid, Effect.catchTag("SqlError", storeError("insertWebAuthnChallenge"))),
    consumeWebAuthnChallenge: (ceremony, tokenHash) =>
      consume(
        "consumeWebAuthnChallenge",
        "userharbor_webauthn_challenges",
        webAuthnChallengeColumns,
        webAuthnWhere(ceremony, tokenHash),
        decodeWebAuthnChallenges
      ),

    purgeExpiredChallenges: ({ limit, now }) =>
      Effect.gen(function*() {
        if (limit <= 0) return 0
        const operation = "purgeExpiredChallenges"
        const logins = yield* purge(operation, "userharbor_login_challenges", ["token_hash"], now, limit)
        if (logins >= limit) return logins
        const webAuthnKey = ["token_hash", "ceremony"]
        return logins + (yield* purge(operation, "userharbor_webauthn_challenges", webAuthnKey, now, limit - logins))
      })
  })
}
