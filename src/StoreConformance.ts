/**
 * The `UserStore` contract as executable cases, so any store (the memory and SQL stores here, or a third party's
 * Redis or DynamoDB store) can prove itself with one call.
 *
 * Each case is plain data: a name and an `Effect` that needs only a `UserStore`, and that dies with a
 * `ConformanceViolation` when the store breaks the contract. Nothing here imports a test framework, so the
 * `userharbor/testing` entry stays usable from vitest, jest, node:test or a script.
 *
 * Cases create their own rows with random ids, usernames, emails and token hashes, so they can share one
 * persistent database, run in any order and run again. The purge cases first drain whatever expired before
 * their own instant, so they expect no other writer to be purging the same database at the same time.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type { YieldWrap } from "effect/Utils"
import { randomBytes } from "node:crypto"
import { isDeepStrictEqual } from "node:util"
import type { TokenPurpose } from "./Errors.js"
import { SessionId, UserId } from "./User.js"
import {
  type CounterRecord,
  type OutboxRecord,
  type SessionRecord,
  type SessionUser,
  type TokenRecord,
  type UserRecord,
  UserStore
} from "./UserStore.js"

/**
 * One check of the contract. `run` succeeds when the store conforms; it dies with a `ConformanceViolation` (or
 * fails with whatever the store failed with) when it does not.
 *
 * @since 0.1.0
 * @category models
 */
export interface Case {
  readonly name: string
  readonly run: Effect.Effect<void, unknown, UserStore>
}

/**
 * The defect a case dies with when the store breaks the contract. The message says what was expected and what the
 * store did.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConformanceViolation extends Data.TaggedError("ConformanceViolation")<{ readonly message: string }> {}

// --- assertions (a defect, so a violation cannot be caught as a store error by the case itself) ---

const violation = (message: string) => Effect.die(new ConformanceViolation({ message }))

// Failing inside a span (as `@effect/sql`'s `sql.transaction` opens) wraps an error in a proxy that carries the
// span, so the identity check looks through it.
const same = (actual: unknown, expected: unknown): boolean => Cause.originalError(actual) === expected

const show = (value: unknown): string => JSON.stringify(value) ?? String(value)

const check = (ok: boolean, message: string): Effect.Effect<void> => ok ? Effect.void : violation(message)

const checkEqual = <A>(actual: A, expected: A, what: string): Effect.Effect<void> =>
  isDeepStrictEqual(actual, expected)
    ? Effect.void
    : violation(`${what}: expected ${show(expected)}, got ${show(actual)}`)

const checkSome = <A>(option: Option.Option<A>, what: string): Effect.Effect<A> =>
  Option.match(option, { onNone: () => violation(`${what}: expected a record, got none`), onSome: Effect.succeed })

const checkNone = <A>(option: Option.Option<A>, what: string): Effect.Effect<void> =>
  Option.isNone(option) ? Effect.void : violation(`${what}: expected none, got ${show(option.value)}`)

const checkFailsWith = <A, E extends { readonly _tag: string }, R>(
  effect: Effect.Effect<A, E, R>,
  tag: E["_tag"],
  what: string
): Effect.Effect<void, never, R> =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.match(result, {
      onLeft: (error) => check(error._tag === tag, `${what}: expected ${tag}, got ${error._tag}`),
      onRight: () => violation(`${what}: expected ${tag}, but it succeeded`)
    }))

// Only the contract's fields are compared, so a store may return richer objects (class instances, extra columns).
const userFields = (u: UserRecord) => ({
  id: u.id,
  username: u.username,
  usernameKey: u.usernameKey,
  email: u.email,
  emailKey: u.emailKey,
  passwordHash: u.passwordHash,
  passwordVersion: u.passwordVersion,
  verified: u.verified,
  createdAt: u.createdAt
})
// What `findSession` returns of its user: the public fields, never the password hash.
const sessionUserFields = (u: SessionUser) => ({
  id: u.id,
  username: u.username,
  email: u.email,
  verified: u.verified,
  createdAt: u.createdAt
})
const sessionFields = (s: SessionRecord) => ({
  id: s.id,
  tokenHash: s.tokenHash,
  userId: s.userId,
  createdAt: s.createdAt,
  expiresAt: s.expiresAt,
  lastUsedAt: s.lastUsedAt
})
const tokenFields = (t: TokenRecord) => ({
  tokenHash: t.tokenHash,
  purpose: t.purpose,
  userId: t.userId,
  createdAt: t.createdAt,
  expiresAt: t.expiresAt
})

// --- fixtures: random, so cases never collide with each other or with an earlier run ---

const hex = (bytes: number) => randomBytes(bytes).toString("hex")

/** A realistic instant (2026-01-01T00:00:00Z); every case's rows live around it. */
const now = 1_767_225_600_000
const day = 86_400_000

const makeUser = (overrides: Partial<UserRecord> = {}): UserRecord => {
  const tag = hex(8)
  return {
    id: UserId.make(hex(16)),
    username: `Conf${tag}`,
    usernameKey: `conf${tag}`,
    email: `Conf.${tag}@Example.test`,
    emailKey: `conf.${tag}@example.test`,
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${hex(16)}$${hex(32)}`,
    passwordVersion: 1,
    verified: false,
    createdAt: now,
    ...overrides
  }
}

const makeSession = (user: UserRecord, overrides: Partial<SessionRecord> = {}): SessionRecord => ({
  id: SessionId.make(hex(16)),
  tokenHash: hex(32),
  userId: user.id,
  createdAt: now,
  expiresAt: now + day,
  lastUsedAt: now,
  ...overrides
})

const makeToken = (user: UserRecord, purpose: TokenPurpose, overrides: Partial<TokenRecord> = {}): TokenRecord => ({
  tokenHash: hex(32),
  purpose,
  userId: user.id,
  createdAt: now,
  expiresAt: now + day,
  ...overrides
})

/** A user already stored, for cases about something else. */
const storedUser = (overrides: Partial<UserRecord> = {}) =>
  Effect.flatMap(UserStore, (store) => {
    const user = makeUser(overrides)
    return Effect.as(store.insertUser(user), user)
  })

const expectUser = (id: UserId, expected: UserRecord, what: string) =>
  Effect.flatMap(
    UserStore,
    (store) =>
      Effect.flatMap(store.findUserById(id), (found) =>
        Effect.flatMap(checkSome(found, what), (user) =>
          checkEqual(userFields(user), userFields(expected), what)))
  )

const expectNoUser = (id: UserId, what: string) =>
  Effect.flatMap(UserStore, (store) => Effect.flatMap(store.findUserById(id), (found) => checkNone(found, what)))

const expectToken = (token: TokenRecord, what: string) =>
  Effect.flatMap(
    UserStore,
    (store) =>
      Effect.flatMap(store.findToken(token.purpose, token.tokenHash), (found) =>
        Effect.flatMap(checkSome(found, what), (record) =>
          checkEqual(tokenFields(record), tokenFields(token), what)))
  )

const expectNoToken = (token: TokenRecord, what: string) =>
  Effect.flatMap(
    UserStore,
    (store) => Effect.flatMap(store.findToken(token.purpose, token.tokenHash), (found) => checkNone(found, what))
  )

const expectSession = (session: SessionRecord, what: string) =>
  Effect.flatMap(
    UserStore,
    (store) =>
      Effect.flatMap(store.findSession(session.tokenHash), (found) =>
        Effect.flatMap(checkSome(found, what), (joined) =>
          checkEqual(sessionFields(joined.session), sessionFields(session), what)))
  )

const expectNoSession = (session: SessionRecord, what: string) =>
  Effect.flatMap(
    UserStore,
    (store) => Effect.flatMap(store.findSession(session.tokenHash), (found) => checkNone(found, what))
  )

/** A failure a case raises inside a transaction, to see that it comes out unchanged. */
class Probe extends Data.TaggedError("userharbor/ConformanceProbe")<{ readonly id: string }> {}

/** Calls a purge until it removes nothing, so a case can then count exactly its own rows. */
const drainWith = (name: string, purge: (store: UserStore["Type"]) => Effect.Effect<number, unknown>) =>
  Effect.flatMap(UserStore, (store) => {
    const loop = (rounds: number): Effect.Effect<void, unknown> =>
      rounds > 1000
        ? violation(`${name} kept returning a positive count after 1000 rounds of 1000`)
        : Effect.flatMap(purge(store), (n) => n === 0 ? Effect.void : loop(rounds + 1))
    return loop(0)
  })

/** Purges everything that expired at or before `at` (rows other cases or earlier runs left behind). */
const drainExpired = (at: number) => drainWith("purgeExpired", (store) => store.purgeExpired(at, 1000))

type Step = YieldWrap<Effect.Effect<unknown, unknown, UserStore>>

/** A case written as a generator over the store, like `Effect.gen`. */
const gen = (name: string, body: (store: UserStore["Type"]) => Generator<Step, void, never>): Case => ({
  name,
  run: Effect.flatMap(UserStore, (store) => Effect.gen(() => body(store)))
})

// --- users ---

const userCases: ReadonlyArray<Case> = [
  gen("insertUser then findUserById returns the same record", function*(store) {
    const user = makeUser({ verified: true, passwordVersion: 3 })
    yield* store.insertUser(user)
    yield* expectUser(user.id, user, "findUserById")
    yield* checkNone(yield* store.findUserById(UserId.make(hex(16))), "findUserById of an unknown id")
  }),
  gen("findUserByUsername finds by username key, and only by it", function*(store) {
    const user = yield* storedUser()
    const found = yield* checkSome(yield* store.findUserByUsername(user.usernameKey), "findUserByUsername")
    yield* checkEqual(userFields(found), userFields(user), "findUserByUsername")
    yield* checkNone(yield* store.findUserByUsername(`conf${hex(8)}`), "findUserByUsername of an unknown key")
    yield* checkNone(yield* store.findUserByUsername(user.emailKey), "findUserByUsername with an email key")
  }),
  gen("findUserByEmail finds by email key, and only by it", function*(store) {
    const user = yield* storedUser()
    const found = yield* checkSome(yield* store.findUserByEmail(user.emailKey), "findUserByEmail")
    yield* checkEqual(userFields(found), userFields(user), "findUserByEmail")
    yield* checkNone(yield* store.findUserByEmail(`conf.${hex(8)}@example.test`), "findUserByEmail of an unknown key")
    yield* checkNone(yield* store.findUserByEmail(user.usernameKey), "findUserByEmail with a username key")
  }),
  gen("insertUser holds the longest keys validation allows (768 and 762 code points, 4 UTF-8 bytes each)", function*(
    store
  ) {
    // `Username.maxKeyLength` and the email key bound: a key validation accepts must never fail as a store error.
    const tag = hex(4)
    const user = makeUser({
      usernameKey: `${tag}${"\u{1D49C}".repeat(768 - tag.length)}`,
      emailKey: `${tag}${"\u{1D49C}".repeat(762 - tag.length)}`
    })
    yield* store.insertUser(user)
    yield* expectUser(user.id, user, "findUserById of a user with the longest keys")
    const found = yield* checkSome(yield* store.findUserByUsername(user.usernameKey), "findUserByUsername")
    yield* checkEqual(found.id, user.id, "findUserByUsername of the longest key")
  }),
  gen("insertUser fails with UsernameTaken on a duplicate username key", function*(store) {
    const first = yield* storedUser()
    const second = makeUser({ username: first.username.toUpperCase(), usernameKey: first.usernameKey })
    yield* checkFailsWith(store.insertUser(second), "UsernameTaken", "insertUser with a taken username key")
  }),
  gen("insertUser fails with EmailTaken on a duplicate email key", function*(store) {
    const first = yield* storedUser()
    const second = makeUser({ email: first.email.toUpperCase(), emailKey: first.emailKey })
    yield* checkFailsWith(store.insertUser(second), "EmailTaken", "insertUser with a taken email key")
  }),
  gen("insertUser reports UsernameTaken when username and email both collide", function*(store) {
    const first = yield* storedUser()
    // Each key collides with a different user, so a store cannot pass by checking one row.
    const other = yield* storedUser()
    const both = makeUser({ usernameKey: first.usernameKey, emailKey: first.emailKey })
    yield* checkFailsWith(store.insertUser(both), "UsernameTaken", "insertUser colliding on both keys with one user")
    const crossed = makeUser({ usernameKey: other.usernameKey, emailKey: first.emailKey })
    yield* checkFailsWith(store.insertUser(crossed), "UsernameTaken", "insertUser colliding with two users")
  }),
  gen("a refused insertUser leaves nothing behind", function*(store) {
    const first = yield* storedUser()
    const byName = makeUser({ usernameKey: first.usernameKey })
    yield* checkFailsWith(store.insertUser(byName), "UsernameTaken", "insertUser with a taken username key")
    yield* expectNoUser(byName.id, "the refused user's id")
    yield* checkNone(yield* store.findUserByEmail(byName.emailKey), "the refused user's email key")
    const byEmail = makeUser({ emailKey: first.emailKey })
    yield* checkFailsWith(store.insertUser(byEmail), "EmailTaken", "insertUser with a taken email key")
    yield* expectNoUser(byEmail.id, "the refused user's id")
    yield* checkNone(yield* store.findUserByUsername(byEmail.usernameKey), "the refused user's username key")
    yield* expectUser(first.id, first, "the user holding the keys")
    // The refused keys are free: a later insert with them succeeds.
    yield* store.insertUser(makeUser({ usernameKey: byEmail.usernameKey, emailKey: byName.emailKey }))
  }),
  gen("keys are compared exactly: accents and ß are not folded by the store", function*(store) {
    // Canonicalisation is the library's job; a store collation that folds accents would refuse real users.
    const tag = hex(6)
    const plain = yield* storedUser({ usernameKey: `zoe${tag}`, emailKey: `strasse.${tag}@example.test` })
    const accented = makeUser({
      username: `Zoë${tag}`,
      usernameKey: `zoë${tag}`,
      email: `straße.${tag}@example.test`,
      emailKey: `straße.${tag}@example.test`
    })
    yield* store.insertUser(accented)
    const byName = yield* checkSome(yield* store.findUserByUsername(accented.usernameKey), "accented username key")
    yield* checkEqual(byName.id, accented.id, "findUserByUsername(accented key).id")
    const byPlain = yield* checkSome(yield* store.findUserByUsername(plain.usernameKey), "plain username key")
    yield* checkEqual(byPlain.id, plain.id, "findUserByUsername(plain key).id")
    const byEmail = yield* checkSome(yield* store.findUserByEmail(accented.emailKey), "email key with ß")
    yield* checkEqual(byEmail.id, accented.id, "findUserByEmail(key with ß).id")
    const byPlainEmail = yield* checkSome(yield* store.findUserByEmail(plain.emailKey), "email key with ss")
    yield* checkEqual(byPlainEmail.id, plain.id, "findUserByEmail(key with ss).id")
  }),
  gen("unicode usernames and emails round-trip exactly and are found by key", function*(store) {
    const tag = hex(4)
    // NFC display forms with combining marks (Devanagari), a 4-byte letter and non-ASCII email parts.
    const user = makeUser({
      username: `Zoë𠀋नमस्ते${tag}`,
      usernameKey: `zoë𠀋नमस्ते${tag}`,
      email: `Jürgen.${tag}@Bücher.example`,
      emailKey: `jürgen.${tag}@bücher.example`
    })
    yield* store.insertUser(user)
    yield* expectUser(user.id, user, "findUserById of a unicode user")
    const byName = yield* checkSome(yield* store.findUserByUsername(user.usernameKey), "findUserByUsername (unicode)")
    yield* checkEqual(userFields(byName), userFields(user), "findUserByUsername (unicode)")
    const byEmail = yield* checkSome(yield* store.findUserByEmail(user.emailKey), "findUserByEmail (unicode)")
    yield* checkEqual(userFields(byEmail), userFields(user), "findUserByEmail (unicode)")
  }),
  gen("markVerified sets verified and changes nothing else", function*(store) {
    const user = yield* storedUser()
    const bystander = yield* storedUser()
    yield* store.markVerified(user.id)
    yield* expectUser(user.id, { ...user, verified: true }, "the verified user")
    yield* expectUser(bystander.id, bystander, "another user")
    yield* store.markVerified(user.id)
    yield* expectUser(user.id, { ...user, verified: true }, "the user verified twice")
  }),
  gen("updatePassword sets the hash and increments passwordVersion", function*(store) {
    const user = yield* storedUser({ passwordVersion: 4 })
    const bystander = yield* storedUser()
    const updated = yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$new1" })
    yield* checkEqual(updated, true, "updatePassword without expectedVersion")
    yield* expectUser(user.id, { ...user, passwordHash: "$argon2id$new1", passwordVersion: 5 }, "after one update")
    yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$new2" })
    yield* expectUser(user.id, { ...user, passwordHash: "$argon2id$new2", passwordVersion: 6 }, "after two updates")
    yield* expectUser(bystander.id, bystander, "another user")
  }),
  gen("updatePassword with expectedVersion updates only when the version matches", function*(store) {
    const user = yield* storedUser({ passwordVersion: 2 })
    const stale = yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$stale", expectedVersion: 1 })
    yield* checkEqual(stale, false, "updatePassword with a stale expectedVersion")
    yield* expectUser(user.id, user, "the user after a refused update")
    const fresh = yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$fresh", expectedVersion: 2 })
    yield* checkEqual(fresh, true, "updatePassword with the current expectedVersion")
    const after = { ...user, passwordHash: "$argon2id$fresh", passwordVersion: 3 }
    yield* expectUser(user.id, after, "the user after a conditional update")
    const again = yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$again", expectedVersion: 2 })
    yield* checkEqual(again, false, "a second update expecting the version the first one replaced")
    yield* expectUser(user.id, after, "the user after the second, refused update")
  }),
  gen("updatePassword with rehash keeps passwordVersion and is still conditional", function*(store) {
    const user = yield* storedUser({ passwordVersion: 4 })
    const stale = yield* store.updatePassword({
      userId: user.id,
      passwordHash: "$argon2id$stale",
      expectedVersion: 3,
      rehash: true
    })
    yield* checkEqual(stale, false, "a rehash with a stale expectedVersion")
    yield* expectUser(user.id, user, "the user after a refused rehash")
    const rehashed = yield* store.updatePassword({
      userId: user.id,
      passwordHash: "$argon2id$rehashed",
      expectedVersion: 4,
      rehash: true
    })
    yield* checkEqual(rehashed, true, "a rehash with the current expectedVersion")
    yield* expectUser(user.id, { ...user, passwordHash: "$argon2id$rehashed" }, "the user after a rehash")
  }),
  gen("updatePassword of a missing user returns false", function*(store) {
    const missing = UserId.make(hex(16))
    yield* checkEqual(
      yield* store.updatePassword({ userId: missing, passwordHash: "$argon2id$x" }),
      false,
      "updatePassword of an unknown user"
    )
    yield* checkEqual(
      yield* store.updatePassword({ userId: missing, passwordHash: "$argon2id$x", expectedVersion: 1 }),
      false,
      "updatePassword of an unknown user with expectedVersion"
    )
    yield* expectNoUser(missing, "the unknown user after updatePassword")
  }),
  gen("deleteUser returns true once, then false, and frees the keys", function*(store) {
    const user = yield* storedUser()
    yield* checkEqual(yield* store.deleteUser(user.id), true, "deleteUser of a stored user")
    yield* expectNoUser(user.id, "findUserById after deleteUser")
    yield* checkNone(yield* store.findUserByUsername(user.usernameKey), "findUserByUsername after deleteUser")
    yield* checkNone(yield* store.findUserByEmail(user.emailKey), "findUserByEmail after deleteUser")
    yield* checkEqual(yield* store.deleteUser(user.id), false, "deleteUser a second time")
    yield* checkEqual(yield* store.deleteUser(UserId.make(hex(16))), false, "deleteUser of an unknown id")
    const reuse = makeUser({ usernameKey: user.usernameKey, emailKey: user.emailKey })
    yield* store.insertUser(reuse)
    yield* expectUser(reuse.id, reuse, "a new user with the deleted user's keys")
  }),
  gen("deleteUser removes the user's sessions and tokens of both purposes, and no one else's", function*(store) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const sessions = [makeSession(user), makeSession(user)]
    const tokens = [makeToken(user, "verify-email"), makeToken(user, "reset-password")]
    const otherSession = makeSession(other)
    const otherTokens = [makeToken(other, "verify-email"), makeToken(other, "reset-password")]
    for (const session of [...sessions, otherSession]) yield* store.insertSession(session)
    for (const token of [...tokens, ...otherTokens]) yield* store.issueToken(token)
    yield* checkEqual(yield* store.deleteUser(user.id), true, "deleteUser")
    for (const session of sessions) yield* expectNoSession(session, "a deleted user's session")
    // findSession joins the user, so it cannot see an orphaned session row; these two can.
    const orphan = yield* store.deleteSession(sessions[0]!.tokenHash)
    yield* checkEqual(orphan, false, "deleteSession of a deleted user's session")
    yield* checkEqual(yield* store.deleteUserSessions(user.id), 0, "deleteUserSessions of a deleted user")
    for (const token of tokens) yield* expectNoToken(token, `a deleted user's ${token.purpose} token`)
    yield* checkNone(yield* store.consumeToken("verify-email", tokens[0]!.tokenHash), "consuming a deleted token")
    yield* expectUser(other.id, other, "another user")
    yield* expectSession(otherSession, "another user's session")
    for (const token of otherTokens) yield* expectToken(token, `another user's ${token.purpose} token`)
  })
]

// --- tokens ---

const tokenCases: ReadonlyArray<Case> = [
  gen("issueToken then findToken returns the record, under its purpose only", function*(store) {
    const user = yield* storedUser()
    const token = makeToken(user, "reset-password", { createdAt: now - 5, expiresAt: now + 3_600_000 })
    yield* store.issueToken(token)
    yield* expectToken(token, "findToken")
    yield* checkNone(yield* store.findToken("verify-email", token.tokenHash), "findToken under the other purpose")
    yield* checkNone(yield* store.findToken("reset-password", hex(32)), "findToken of an unknown hash")
  }),
  gen("issueToken replaces the user's previous token of that purpose only", function*(store) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const firstVerify = makeToken(user, "verify-email")
    const reset = makeToken(user, "reset-password")
    const otherVerify = makeToken(other, "verify-email")
    yield* store.issueToken(firstVerify)
    yield* store.issueToken(reset)
    yield* store.issueToken(otherVerify)
    const secondVerify = makeToken(user, "verify-email", { createdAt: now + 1 })
    yield* store.issueToken(secondVerify)
    yield* expectNoToken(firstVerify, "the replaced verify-email token")
    yield* checkNone(yield* store.consumeToken("verify-email", firstVerify.tokenHash), "consuming the replaced token")
    yield* expectToken(secondVerify, "the new verify-email token")
    yield* expectToken(reset, "the user's reset-password token")
    yield* expectToken(otherVerify, "another user's verify-email token")
    const secondReset = makeToken(user, "reset-password")
    yield* store.issueToken(secondReset)
    yield* expectNoToken(reset, "the replaced reset-password token")
    yield* expectToken(secondReset, "the new reset-password token")
    yield* expectToken(secondVerify, "the verify-email token after a reset-password token was issued")
  }),
  gen("consumeToken returns the record once, then none", function*(store) {
    const user = yield* storedUser()
    const token = makeToken(user, "verify-email")
    yield* store.issueToken(token)
    const first = yield* checkSome(yield* store.consumeToken("verify-email", token.tokenHash), "first consumeToken")
    yield* checkEqual(tokenFields(first), tokenFields(token), "the consumed record")
    yield* checkNone(yield* store.consumeToken("verify-email", token.tokenHash), "second consumeToken")
    yield* expectNoToken(token, "findToken after consumeToken")
    yield* checkNone(yield* store.consumeToken("verify-email", hex(32)), "consumeToken of an unknown hash")
  }),
  gen("consumeToken returns and removes an expired token (the caller judges expiry)", function*(store) {
    const user = yield* storedUser()
    const token = makeToken(user, "reset-password", { createdAt: now - 2 * day, expiresAt: now - day })
    yield* store.issueToken(token)
    const consumed = yield* checkSome(
      yield* store.consumeToken("reset-password", token.tokenHash),
      "consumeToken of an expired token"
    )
    yield* checkEqual(tokenFields(consumed), tokenFields(token), "the consumed expired record")
    yield* checkNone(yield* store.consumeToken("reset-password", token.tokenHash), "consuming the expired token again")
  }),
  gen("consumeToken under the wrong purpose returns none and keeps the token", function*(store) {
    const user = yield* storedUser()
    const token = makeToken(user, "verify-email")
    yield* store.issueToken(token)
    yield* checkNone(yield* store.consumeToken("reset-password", token.tokenHash), "consumeToken, wrong purpose")
    yield* expectToken(token, "the token after a wrong-purpose consume")
    yield* checkSome(yield* store.consumeToken("verify-email", token.tokenHash), "consumeToken, right purpose")
  }),
  gen("20 concurrent consumeToken calls: exactly one gets the record", function*(store) {
    const user = yield* storedUser()
    const token = makeToken(user, "reset-password")
    yield* store.issueToken(token)
    const results = yield* Effect.all(
      Array.from({ length: 20 }, () => store.consumeToken("reset-password", token.tokenHash)),
      { concurrency: "unbounded" }
    )
    yield* checkEqual(results.filter(Option.isSome).length, 1, "consumers that got the token")
    yield* expectNoToken(token, "the token after the race")
  }),
  gen("deleteUserTokens removes that user's tokens of that purpose only", function*(store) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const verify = makeToken(user, "verify-email")
    const reset = makeToken(user, "reset-password")
    const otherVerify = makeToken(other, "verify-email")
    for (const token of [verify, reset, otherVerify]) yield* store.issueToken(token)
    yield* store.deleteUserTokens(user.id, "verify-email")
    yield* expectNoToken(verify, "the deleted verify-email token")
    yield* expectToken(reset, "the user's reset-password token")
    yield* expectToken(otherVerify, "another user's verify-email token")
    // Nothing left to delete is not an error.
    yield* store.deleteUserTokens(user.id, "verify-email")
    yield* store.deleteUserTokens(UserId.make(hex(16)), "reset-password")
    yield* expectToken(reset, "the user's reset-password token after deleting nothing")
  })
]

// --- sessions ---

const sessionCases: ReadonlyArray<Case> = [
  gen("insertSession then findSession returns the session joined with its user", function*(store) {
    const user = yield* storedUser({ verified: true })
    const session = makeSession(user, { createdAt: now - 10, lastUsedAt: now - 5 })
    yield* store.insertSession(session)
    const found = yield* checkSome(yield* store.findSession(session.tokenHash), "findSession")
    yield* checkEqual(sessionFields(found.session), sessionFields(session), "findSession's session")
    yield* checkEqual(sessionUserFields(found.user), sessionUserFields(user), "findSession's user")
    yield* check(!("passwordHash" in found.user), "findSession's user has no password hash")
    yield* checkNone(yield* store.findSession(hex(32)), "findSession of an unknown hash")
  }),
  gen("findSession returns the user as currently stored", function*(store) {
    const user = yield* storedUser()
    const session = makeSession(user)
    yield* store.insertSession(session)
    yield* store.markVerified(user.id)
    yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$changed" })
    const found = yield* checkSome(yield* store.findSession(session.tokenHash), "findSession")
    yield* checkEqual(
      sessionUserFields(found.user),
      sessionUserFields({ ...user, verified: true }),
      "findSession's user after changes"
    )
  }),
  gen("renewSession moves expiresAt and lastUsedAt of that session only", function*(store) {
    const user = yield* storedUser()
    const session = makeSession(user)
    const sibling = makeSession(user)
    yield* store.insertSession(session)
    yield* store.insertSession(sibling)
    yield* store.renewSession(session.tokenHash, now + 30 * day, now + 1234)
    yield* expectSession({ ...session, expiresAt: now + 30 * day, lastUsedAt: now + 1234 }, "the renewed session")
    yield* expectSession(sibling, "the user's other session")
    // Renewing an unknown session creates nothing.
    const ghost = hex(32)
    yield* store.renewSession(ghost, now + day, now)
    yield* checkNone(yield* store.findSession(ghost), "findSession after renewing an unknown hash")
  }),
  gen("deleteSession returns true once, then false, and leaves other sessions", function*(store) {
    const user = yield* storedUser()
    const session = makeSession(user)
    const sibling = makeSession(user)
    yield* store.insertSession(session)
    yield* store.insertSession(sibling)
    yield* checkEqual(yield* store.deleteSession(session.tokenHash), true, "deleteSession of a stored session")
    yield* expectNoSession(session, "the deleted session")
    yield* checkEqual(yield* store.deleteSession(session.tokenHash), false, "deleteSession a second time")
    yield* checkEqual(yield* store.deleteSession(hex(32)), false, "deleteSession of an unknown hash")
    yield* expectSession(sibling, "the user's other session")
    yield* expectUser(user.id, user, "the session's user")
  }),
  gen("deleteUserSessions removes only that user's sessions and returns how many", function*(store) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const sessions = [makeSession(user), makeSession(user), makeSession(user)]
    const otherSession = makeSession(other)
    for (const session of [...sessions, otherSession]) yield* store.insertSession(session)
    yield* checkEqual(yield* store.deleteUserSessions(user.id), 3, "deleteUserSessions' count")
    for (const session of sessions) yield* expectNoSession(session, "a removed session")
    yield* expectSession(otherSession, "another user's session")
    yield* expectUser(user.id, user, "the user whose sessions were removed")
    yield* checkEqual(yield* store.deleteUserSessions(user.id), 0, "deleteUserSessions a second time")
    yield* checkEqual(yield* store.deleteUserSessions(UserId.make(hex(16))), 0, "deleteUserSessions, unknown user")
  })
]

// --- purge ---

/** Far below `now`, so only rows written to be expired sit at or before it. */
const purgeAt = now - 400 * day

const purgeCases: ReadonlyArray<Case> = [
  gen("purgeExpired removes sessions and tokens with expiresAt <= now, and only those", function*(store) {
    yield* drainExpired(purgeAt)
    const user = yield* storedUser()
    const other = yield* storedUser()
    const before = makeSession(user, { createdAt: purgeAt - day, expiresAt: purgeAt - 1 })
    const exactly = makeSession(user, { createdAt: purgeAt - day, expiresAt: purgeAt })
    const after = makeSession(user, { createdAt: purgeAt - day, expiresAt: purgeAt + 1 })
    const expiredToken = makeToken(user, "verify-email", { createdAt: purgeAt - day, expiresAt: purgeAt })
    const liveToken = makeToken(user, "reset-password", { createdAt: purgeAt - day, expiresAt: purgeAt + 1 })
    const otherExpired = makeToken(other, "reset-password", { createdAt: purgeAt - day, expiresAt: purgeAt - day })
    for (const session of [before, exactly, after]) yield* store.insertSession(session)
    for (const token of [expiredToken, liveToken, otherExpired]) yield* store.issueToken(token)
    yield* checkEqual(yield* store.purgeExpired(purgeAt, 100), 4, "purgeExpired's count")
    yield* expectNoSession(before, "a session that expired before now")
    yield* expectNoSession(exactly, "a session that expires exactly now")
    yield* expectNoToken(expiredToken, "a token that expires exactly now")
    yield* expectNoToken(otherExpired, "another user's expired token")
    yield* expectSession(after, "a session that expires after now")
    yield* expectToken(liveToken, "a token that expires after now")
    yield* expectUser(user.id, user, "the user whose rows were purged")
    yield* checkEqual(yield* store.purgeExpired(purgeAt, 100), 0, "a second purgeExpired")
  }),
  gen("purgeExpired removes at most limit rows per call until none are left", function*(store) {
    yield* drainExpired(purgeAt)
    const users = [yield* storedUser(), yield* storedUser(), yield* storedUser()]
    const expired = { createdAt: purgeAt - day, expiresAt: purgeAt - 10 }
    const sessions = users.map((user) => makeSession(user, expired))
    const tokens = users.map((user) => makeToken(user, "verify-email", expired))
    const live = makeSession(users[0]!, { createdAt: purgeAt - day, expiresAt: now + day })
    for (const session of [...sessions, live]) yield* store.insertSession(session)
    for (const token of tokens) yield* store.issueToken(token)
    const counts: Array<number> = []
    for (let round = 0; round < 10; round++) {
      const n = yield* store.purgeExpired(purgeAt, 2)
      yield* check(n >= 0 && n <= 2, `purgeExpired(now, 2) returned ${n}`)
      if (n === 0) break
      counts.push(n)
    }
    yield* checkEqual(counts.reduce((a, b) => a + b, 0), 6, `purgeExpired(now, 2) counts ${show(counts)} in total`)
    for (const session of sessions) yield* expectNoSession(session, "an expired session after the purge")
    for (const token of tokens) yield* expectNoToken(token, "an expired token after the purge")
    yield* expectSession(live, "a live session after the purge")
    yield* checkEqual(yield* store.purgeExpired(purgeAt, 2), 0, "purgeExpired after a full purge")
  })
]

// Unverified users of these cases are created long before every other case's rows (which are unverified too).
const unverifiedAt = now - 800 * day

/** Purges every unverified user created at or before `at`. */
const drainUnverified = (at: number) =>
  drainWith("purgeUnverifiedUsers", (store) => store.purgeUnverifiedUsers(at, 1000))

const unverifiedCases: ReadonlyArray<Case> = [
  gen("purgeUnverifiedUsers removes unverified users created at or before the instant, oldest first", function*(
    store
  ) {
    yield* drainUnverified(unverifiedAt)
    const oldest = yield* storedUser({ createdAt: unverifiedAt - 3 * day })
    const older = yield* storedUser({ createdAt: unverifiedAt - 2 * day })
    const exactly = yield* storedUser({ createdAt: unverifiedAt })
    const verified = yield* storedUser({ createdAt: unverifiedAt - 4 * day, verified: true })
    const newer = yield* storedUser({ createdAt: unverifiedAt + 1 })
    const token = makeToken(oldest, "verify-email", { createdAt: unverifiedAt - 3 * day, expiresAt: now + day })
    const session = makeSession(oldest, { createdAt: unverifiedAt - 3 * day, expiresAt: now + day })
    yield* store.issueToken(token)
    yield* store.insertSession(session)
    yield* checkEqual(yield* store.purgeUnverifiedUsers(unverifiedAt, 2), 2, "purgeUnverifiedUsers(at, 2)")
    yield* expectNoUser(oldest.id, "the oldest unverified user")
    yield* expectNoUser(older.id, "the second oldest unverified user")
    yield* expectUser(exactly.id, exactly, "an unverified user beyond the limit")
    yield* expectNoToken(token, "a purged user's token")
    yield* expectNoSession(session, "a purged user's session")
    yield* checkEqual(yield* store.purgeUnverifiedUsers(unverifiedAt, 10), 1, "purgeUnverifiedUsers again")
    yield* expectNoUser(exactly.id, "an unverified user created exactly at the instant")
    yield* expectUser(verified.id, verified, "a verified user, however old")
    yield* expectUser(newer.id, newer, "an unverified user created after the instant")
    yield* checkEqual(yield* store.purgeUnverifiedUsers(unverifiedAt, 10), 0, "purgeUnverifiedUsers a third time")
    const freed = makeUser({ usernameKey: oldest.usernameKey, emailKey: oldest.emailKey })
    yield* store.insertUser(freed)
    yield* expectUser(freed.id, freed, "a new user with a purged user's name and address")
  }),
  gen("deleteUnverifiedUsers removes only stale unverified holders of the name or the address", function*(store) {
    const byName = yield* storedUser({ createdAt: now - 10 * day })
    const byEmail = yield* storedUser({ createdAt: now - 10 * day })
    const token = makeToken(byName, "verify-email")
    yield* store.issueToken(token)
    const keys = { usernameKey: byName.usernameKey, emailKey: byEmail.emailKey }
    yield* checkEqual(
      yield* store.deleteUnverifiedUsers({ ...keys, createdBefore: now - 11 * day }),
      0,
      "deleteUnverifiedUsers before they are stale"
    )
    yield* expectUser(byName.id, byName, "a holder of the name that is not stale yet")
    yield* checkEqual(
      yield* store.deleteUnverifiedUsers({ ...keys, createdBefore: now - 10 * day }),
      2,
      "deleteUnverifiedUsers of two stale holders"
    )
    yield* expectNoUser(byName.id, "the stale holder of the name")
    yield* expectNoUser(byEmail.id, "the stale holder of the address")
    yield* expectNoToken(token, "a deleted user's token")
    const verified = yield* storedUser({ createdAt: now - 10 * day, verified: true })
    const both = yield* storedUser({ createdAt: now - 10 * day })
    const unknown = makeUser()
    const expected: ReadonlyArray<readonly [UserRecord, number, string]> = [
      [verified, 0, "a verified holder"],
      [both, 1, "one user holding both"],
      [unknown, 0, "unknown keys"]
    ]
    for (const [holder, count, what] of expected) {
      const { emailKey, usernameKey } = holder
      const deleted = yield* store.deleteUnverifiedUsers({ usernameKey, emailKey, createdBefore: now })
      yield* checkEqual(deleted, count, `deleteUnverifiedUsers of ${what}`)
    }
    yield* expectUser(verified.id, verified, "a verified holder")
  }),
  gen("deleteUnverifiedUsers rolls back with its transaction", function*(store) {
    const user = yield* storedUser({ createdAt: now - 10 * day })
    const probe = new Probe({ id: hex(4) })
    const result = yield* Effect.either(store.withTransaction(Effect.zipRight(
      store.deleteUnverifiedUsers({ usernameKey: user.usernameKey, emailKey: user.emailKey, createdBefore: now }),
      probe
    )))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* expectUser(user.id, user, "the user after the rollback")
  })
]

// --- transactions ---

const transactionCases: ReadonlyArray<Case> = [
  gen("withTransaction commits every write and returns the body's value", function*(store) {
    const user = makeUser()
    const session = makeSession(user)
    const token = makeToken(user, "verify-email")
    const result = yield* store.withTransaction(Effect.gen(function*() {
      yield* store.insertUser(user)
      yield* store.insertSession(session)
      yield* store.issueToken(token)
      // Reads inside the transaction see its own writes.
      yield* expectUser(user.id, user, "findUserById inside the transaction")
      return user.id
    }))
    yield* checkEqual(result, user.id, "withTransaction's value")
    yield* expectUser(user.id, user, "the committed user")
    yield* expectSession(session, "the committed session")
    yield* expectToken(token, "the committed token")
  }),
  gen("a failed transaction rolls back every kind of write", function*(store) {
    const user = yield* storedUser()
    const doomed = yield* storedUser()
    const renewed = makeSession(user)
    const deleted = makeSession(user)
    const doomedSession = makeSession(doomed)
    const verify = makeToken(user, "verify-email")
    const reset = makeToken(user, "reset-password")
    for (const session of [renewed, deleted, doomedSession]) yield* store.insertSession(session)
    for (const token of [verify, reset]) yield* store.issueToken(token)
    const newcomer = makeUser()
    const newSession = makeSession(user)
    const newVerify = makeToken(user, "verify-email")
    const probe = new Probe({ id: hex(4) })
    const result = yield* Effect.either(store.withTransaction(Effect.gen(function*() {
      yield* store.insertUser(newcomer)
      yield* store.markVerified(user.id)
      yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$rolledback" })
      yield* store.insertSession(newSession)
      yield* store.renewSession(renewed.tokenHash, now + 9 * day, now + 9)
      yield* store.deleteSession(deleted.tokenHash)
      yield* store.issueToken(newVerify)
      yield* store.consumeToken("reset-password", reset.tokenHash)
      yield* store.deleteUser(doomed.id)
      return yield* probe
    })))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* expectNoUser(newcomer.id, "a user inserted in the rolled-back transaction")
    yield* expectUser(user.id, user, "a user verified and updated in the rolled-back transaction")
    yield* expectNoSession(newSession, "a session inserted in the rolled-back transaction")
    yield* expectSession(renewed, "a session renewed in the rolled-back transaction")
    yield* expectSession(deleted, "a session deleted in the rolled-back transaction")
    yield* expectNoToken(newVerify, "a token issued in the rolled-back transaction")
    yield* expectToken(verify, "a token replaced in the rolled-back transaction")
    yield* expectToken(reset, "a token consumed in the rolled-back transaction")
    yield* expectUser(doomed.id, doomed, "a user deleted in the rolled-back transaction")
    yield* expectSession(doomedSession, "the session of a user deleted in the rolled-back transaction")
  }),
  gen("a defect in the transaction rolls it back and stays a defect", function*(store) {
    const user = makeUser()
    const defect = new Error("conformance: deliberate defect")
    const exit = yield* Effect.exit(store.withTransaction(Effect.zipRight(store.insertUser(user), Effect.die(defect))))
    yield* check(
      Exit.isFailure(exit) && Option.exists(Cause.dieOption(exit.cause), (d) => same(d, defect)),
      "withTransaction should die with the body's defect"
    )
    yield* expectNoUser(user.id, "a user inserted before the defect")
  }),
  gen("an interrupted transaction rolls back", function*(store) {
    const user = makeUser()
    const session = makeSession(user)
    const written = yield* Deferred.make<void>()
    const never = yield* Deferred.make<void>()
    const fiber = yield* Effect.fork(store.withTransaction(Effect.gen(function*() {
      yield* store.insertUser(user)
      yield* store.insertSession(session)
      yield* Deferred.succeed(written, undefined)
      yield* Deferred.await(never)
    })))
    yield* Deferred.await(written)
    const exit = yield* Fiber.interrupt(fiber)
    yield* check(Exit.isInterrupted(exit), `the transaction's fiber should end interrupted, got ${String(exit)}`)
    yield* expectNoUser(user.id, "a user inserted before the interruption")
    yield* expectNoSession(session, "a session inserted before the interruption")
    // The store is usable afterwards (the transaction's connection or lock was released).
    yield* store.insertUser(user)
    yield* expectUser(user.id, user, "the same user inserted after the interruption")
  }),
  gen("a nested transaction joins the outer one: an outer failure undoes both", function*(store) {
    const inner = makeUser()
    const outer = makeUser()
    const probe = new Probe({ id: hex(4) })
    const result = yield* Effect.either(store.withTransaction(Effect.gen(function*() {
      yield* store.withTransaction(store.insertUser(inner))
      yield* store.insertUser(outer)
      return yield* probe
    })))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* expectNoUser(inner.id, "a user inserted by a committed nested transaction")
    yield* expectNoUser(outer.id, "a user inserted by the failed outer transaction")
  }),
  gen("a failed nested transaction undoes only its own writes", function*(store) {
    const before = makeUser()
    const inner = makeUser()
    const after = makeUser()
    const probe = new Probe({ id: hex(4) })
    yield* store.withTransaction(Effect.gen(function*() {
      yield* store.insertUser(before)
      const nested = yield* Effect.either(store.withTransaction(Effect.zipRight(store.insertUser(inner), probe)))
      yield* check(
        Either.isLeft(nested) && same(nested.left, probe),
        "the nested transaction should fail with its error"
      )
      yield* expectNoUser(inner.id, "the nested write, inside the outer transaction after the nested failure")
      yield* expectUser(before.id, before, "the outer write before the nested one, inside the outer transaction")
      yield* store.insertUser(after)
    }))
    yield* expectUser(before.id, before, "the outer write before the nested transaction")
    yield* expectUser(after.id, after, "the outer write after the nested transaction")
    yield* expectNoUser(inner.id, "the failed nested transaction's write")
  }),
  gen("errors from the body keep their type through withTransaction", function*(store) {
    const probe = new Probe({ id: hex(4) })
    const outer = yield* Effect.either(store.withTransaction(probe))
    yield* check(Either.isLeft(outer) && same(outer.left, probe), "withTransaction should fail with the same error")
    const nested = yield* Effect.either(store.withTransaction(store.withTransaction(probe)))
    yield* check(
      Either.isLeft(nested) && same(nested.left, probe),
      "nested withTransaction should fail with that error"
    )
    const taken = yield* storedUser()
    const duplicate = makeUser({ usernameKey: taken.usernameKey })
    const caught = yield* Effect.either(store.withTransaction(store.insertUser(duplicate)))
    yield* check(
      Either.isLeft(caught) && caught.left._tag === "UsernameTaken",
      "a store's own typed error should leave withTransaction as it is"
    )
  })
]

// --- instants ---

const instantCases: ReadonlyArray<Case> = [
  gen("instants round-trip exactly as epoch milliseconds", function*(store) {
    // 0 and 1 catch epoch and unit mistakes, 2^41 catches 32-bit truncation, a realistic now with odd
    // milliseconds catches rounding to seconds and time-zone shifts.
    const instants = [0, 1, 2 ** 41, now + 987]
    for (const at of instants) {
      const user = makeUser({ createdAt: at })
      const session = makeSession(user, { createdAt: at, expiresAt: at + 1, lastUsedAt: at })
      const token = makeToken(user, "verify-email", { createdAt: at, expiresAt: at + 1 })
      yield* store.insertUser(user)
      yield* store.insertSession(session)
      yield* store.issueToken(token)
      yield* expectUser(user.id, user, `a user created at ${at}`)
      yield* expectSession(session, `a session at ${at}`)
      yield* expectToken(token, `a token at ${at}`)
      yield* store.renewSession(session.tokenHash, at + 2, at + 3)
      yield* expectSession({ ...session, expiresAt: at + 2, lastUsedAt: at + 3 }, `a session renewed at ${at}`)
      // Clean up: rows at 0 and 1 would otherwise sit in the database as expired ones.
      yield* store.deleteUser(user.id)
    }
  })
]

// --- email outbox ---

const outboxFields = (r: OutboxRecord) => ({
  id: r.id,
  payload: r.payload,
  createdAt: r.createdAt,
  attempts: r.attempts,
  nextAttemptAt: r.nextAttemptAt
})

const makeOutboxRecord = (overrides: Partial<OutboxRecord> = {}): OutboxRecord => ({
  id: hex(16),
  // Payloads are opaque to the store; real ones are base64url text of a few hundred characters.
  payload: `v1.${randomBytes(300).toString("base64url")}`,
  createdAt: now,
  attempts: 0,
  nextAttemptAt: now,
  ...overrides
})

const lease = 60_000

/**
 * Claims everything due at `at` (rows other cases or earlier runs left behind) and deletes it, so a case can then
 * count exactly its own rows.
 */
const drainOutbox = (at: number) =>
  Effect.flatMap(UserStore, (store) => {
    const worker = `drain-${hex(4)}`
    const loop = (rounds: number): Effect.Effect<void, unknown> =>
      rounds > 100
        ? violation("claimEmails kept returning rows after 100 rounds of 1000")
        : Effect.flatMap(store.claimEmails(at, 1000, lease, worker), (rows) =>
          rows.length === 0
            ? Effect.void
            : Effect.zipRight(
              Effect.forEach(rows, (row) => store.dropEmail(row.id, worker), { discard: true }),
              loop(rounds + 1)
            ))
    return loop(0)
  })

const idsOf = (rows: ReadonlyArray<OutboxRecord>) => rows.map((row) => row.id).sort()

const outboxCases: ReadonlyArray<Case> = [
  gen("outbox: enqueueEmail, claimEmails and completeEmail", function*(store) {
    yield* drainOutbox(now)
    const first = makeOutboxRecord({ nextAttemptAt: now - 2 })
    const second = makeOutboxRecord({ nextAttemptAt: now - 1, attempts: 2 })
    const later = makeOutboxRecord({ nextAttemptAt: now + 1 })
    for (const row of [second, later, first]) yield* store.enqueueEmail(row)
    const claimed = yield* store.claimEmails(now, 10, lease, "worker-a")
    yield* checkEqual(claimed.map(outboxFields), [first, second].map(outboxFields), "claimEmails (oldest due first)")
    yield* checkEqual(yield* store.claimEmails(now, 10, lease, "worker-b"), [], "claimEmails while claimed")
    yield* check(!(yield* store.completeEmail(first.id, "worker-b")), "completeEmail by a worker without the claim")
    yield* check(yield* store.completeEmail(first.id, "worker-a"), "completeEmail by the holder")
    yield* check(!(yield* store.completeEmail(first.id, "worker-a")), "completeEmail of a deleted row")
    yield* check(yield* store.dropEmail(second.id, "worker-a"), "dropEmail by the holder")
    // Both are gone for good: not even an expired lease brings them back.
    const afterLease = yield* store.claimEmails(now + lease, 10, lease, "worker-c")
    yield* checkEqual(idsOf(afterLease), [later.id], "claimEmails after the lease, once `later` is due")
    yield* check(yield* store.completeEmail(later.id, "worker-c"), "completeEmail of the later row")
  }),
  gen("outbox: claimEmails honours the limit", function*(store) {
    yield* drainOutbox(now)
    const rows = Array.from({ length: 5 }, (_, i) => makeOutboxRecord({ nextAttemptAt: now - 10 + i }))
    for (const row of rows) yield* store.enqueueEmail(row)
    const firstBatch = yield* store.claimEmails(now, 3, lease, "worker-a")
    yield* checkEqual(idsOf(firstBatch), idsOf(rows.slice(0, 3)), "the first batch of 3")
    const secondBatch = yield* store.claimEmails(now, 3, lease, "worker-a")
    yield* checkEqual(idsOf(secondBatch), idsOf(rows.slice(3)), "the second batch")
    for (const row of rows) yield* store.completeEmail(row.id, "worker-a")
  }),
  gen("outbox: retryEmail releases the claim and reschedules", function*(store) {
    yield* drainOutbox(now)
    const row = makeOutboxRecord()
    yield* store.enqueueEmail(row)
    yield* store.claimEmails(now, 10, lease, "worker-a")
    yield* check(!(yield* store.retryEmail(row.id, "worker-b", 1, now + 500)), "retryEmail by a non-holder")
    yield* check(yield* store.retryEmail(row.id, "worker-a", 1, now + 500), "retryEmail by the holder")
    yield* check(!(yield* store.completeEmail(row.id, "worker-a")), "completeEmail after releasing the claim")
    const early = yield* store.claimEmails(now + 499, 10, lease, "worker-b")
    yield* checkEqual(early, [], "claimEmails before nextAttemptAt")
    const again = yield* store.claimEmails(now + 500, 10, lease, "worker-b")
    yield* checkEqual(
      again.map(outboxFields),
      [outboxFields({ ...row, attempts: 1, nextAttemptAt: now + 500 })],
      "claimEmails at nextAttemptAt"
    )
    yield* check(yield* store.completeEmail(row.id, "worker-b"), "completeEmail by the new holder")
  }),
  gen("outbox: a claim whose lease ended can be taken over, and the old holder loses it", function*(store) {
    yield* drainOutbox(now)
    const row = makeOutboxRecord()
    yield* store.enqueueEmail(row)
    yield* checkEqual(idsOf(yield* store.claimEmails(now, 10, 1000, "crashed")), [row.id], "the first claim")
    yield* checkEqual(yield* store.claimEmails(now + 999, 10, 1000, "worker-b"), [], "claimEmails during the lease")
    const taken = yield* store.claimEmails(now + 1000, 10, 1000, "worker-b")
    yield* checkEqual(idsOf(taken), [row.id], "claimEmails once the lease ended")
    yield* check(!(yield* store.completeEmail(row.id, "crashed")), "completeEmail by the holder whose lease ended")
    yield* check(!(yield* store.retryEmail(row.id, "crashed", 1, now)), "retryEmail by the holder whose lease ended")
    yield* check(!(yield* store.dropEmail(row.id, "crashed")), "dropEmail by the holder whose lease ended")
    yield* check(yield* store.completeEmail(row.id, "worker-b"), "completeEmail by the new holder")
  }),
  gen("outbox: concurrent claimers never get the same row", function*(store) {
    for (const workers of [2, 3, 4, 5]) {
      yield* drainOutbox(now)
      const rows = Array.from({ length: 20 }, () => makeOutboxRecord())
      for (const row of rows) yield* store.enqueueEmail(row)
      const names = Array.from({ length: workers }, (_, i) => `worker-${i}`)
      // Small batches, claimed over and over by every worker at once, so claims really race.
      const claimAll = (name: string) => {
        const loop = (got: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, unknown> =>
          Effect.flatMap(store.claimEmails(now, 3, lease, name), (batch) =>
            // More than the 20 rows: it keeps handing out claimed rows (the check below reports it).
            batch.length === 0 || got.length > rows.length
              ? Effect.succeed(got)
              : loop([...got, ...batch.map((row) => row.id)]))
        return loop([])
      }
      const claims = yield* Effect.all(names.map(claimAll), { concurrency: "unbounded" })
      const all = claims.flat()
      yield* checkEqual(new Set(all).size, all.length, `${workers} claimers: a row claimed twice`)
      yield* checkEqual([...all].sort(), idsOf(rows), `${workers} claimers: the rows claimed`)
      for (const [i, ids] of claims.entries()) {
        for (const id of ids) {
          yield* check(yield* store.completeEmail(id, `worker-${i}`), "completeEmail by its claimer")
        }
      }
    }
  }),
  gen("outbox: a rolled-back transaction leaves no row", function*(store) {
    yield* drainOutbox(now)
    const row = makeOutboxRecord()
    const probe = new Probe({ id: hex(4) })
    const result = yield* Effect.either(store.withTransaction(Effect.zipRight(store.enqueueEmail(row), probe)))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* checkEqual(yield* store.claimEmails(now, 10, lease, "worker-a"), [], "claimEmails after the rollback")
    const kept = makeOutboxRecord()
    yield* store.withTransaction(store.enqueueEmail(kept))
    yield* checkEqual(idsOf(yield* store.claimEmails(now, 10, lease, "worker-a")), [kept.id], "a committed row")
    yield* store.completeEmail(kept.id, "worker-a")
  }),
  gen("outbox: deleteUser leaves outbox rows alone", function*(store) {
    yield* drainOutbox(now)
    const user = yield* storedUser()
    const row = makeOutboxRecord()
    yield* store.withTransaction(Effect.zipRight(store.deleteUser(user.id), store.enqueueEmail(row)))
    yield* checkEqual(idsOf(yield* store.claimEmails(now, 10, lease, "worker-a")), [row.id], "the row after deleteUser")
    yield* store.completeEmail(row.id, "worker-a")
  })
]

// --- throttling and counters ---

const counterKey = () => `conformance:${hex(12)}`

const expectCounter = (key: string, expected: CounterRecord, what: string) =>
  Effect.flatMap(
    UserStore,
    (store) =>
      Effect.flatMap(store.getCounter(key), (found) =>
        Effect.flatMap(checkSome(found, what), (counter) =>
          checkEqual(
            { count: counter.count, windowStart: counter.windowStart, updatedAt: counter.updatedAt },
            expected,
            what
          )))
  )

const counterCases: ReadonlyArray<Case> = [
  gen("incrementCounter starts a counter at 1 and getCounter reads it; an unknown key has none", function*(store) {
    const key = counterKey()
    yield* checkNone(yield* store.getCounter(key), "a counter never incremented")
    yield* checkEqual(yield* store.incrementCounter(key, now, 60_000), 1, "the first increment")
    yield* expectCounter(key, { count: 1, windowStart: now, updatedAt: now }, "the counter after one increment")
  }),
  gen("incrementCounter within the window adds one, keeps windowStart and moves updatedAt", function*(store) {
    const key = counterKey()
    yield* store.incrementCounter(key, now, 60_000)
    yield* checkEqual(yield* store.incrementCounter(key, now + 1000, 60_000), 2, "the second increment")
    // One millisecond before the window ends it is still the same window.
    yield* checkEqual(yield* store.incrementCounter(key, now + 59_999, 60_000), 3, "an increment at the window's end")
    yield* expectCounter(key, { count: 3, windowStart: now, updatedAt: now + 59_999 }, "the counter")
  }),
  gen("incrementCounter restarts at 1 once windowStart <= now - windowMs (a fixed window)", function*(store) {
    const key = counterKey()
    yield* store.incrementCounter(key, now, 60_000)
    yield* store.incrementCounter(key, now + 30_000, 60_000)
    const restarted = yield* store.incrementCounter(key, now + 60_000, 60_000)
    yield* checkEqual(restarted, 1, "the first increment of a new window")
    yield* expectCounter(key, { count: 1, windowStart: now + 60_000, updatedAt: now + 60_000 }, "the new window")
  }),
  gen("incrementCounter with a window of Number.MAX_SAFE_INTEGER never restarts", function*(store) {
    const key = counterKey()
    yield* store.incrementCounter(key, 0, Number.MAX_SAFE_INTEGER)
    yield* checkEqual(yield* store.incrementCounter(key, now, Number.MAX_SAFE_INTEGER), 2, "an increment years later")
    yield* expectCounter(key, { count: 2, windowStart: 0, updatedAt: now }, "the counter")
    yield* store.deleteCounter(key)
  }),
  gen("50 concurrent incrementCounter calls each see a distinct count and leave exactly 50", function*(store) {
    const key = counterKey()
    const counts = yield* Effect.all(
      Array.from({ length: 50 }, () => store.incrementCounter(key, now, 60_000)),
      { concurrency: "unbounded" }
    )
    yield* checkEqual([...counts].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1), "the counts seen")
    yield* expectCounter(key, { count: 50, windowStart: now, updatedAt: now }, "the counter after 50 increments")
  }),
  gen("deleteCounter removes that counter only; a deleted counter starts again at 1", function*(store) {
    const key = counterKey()
    const other = counterKey()
    yield* store.incrementCounter(key, now, 60_000)
    yield* store.incrementCounter(key, now, 60_000)
    yield* store.incrementCounter(other, now, 60_000)
    yield* store.deleteCounter(key)
    yield* store.deleteCounter(counterKey()) // a missing key is no error
    yield* checkNone(yield* store.getCounter(key), "a deleted counter")
    yield* expectCounter(other, { count: 1, windowStart: now, updatedAt: now }, "another counter")
    yield* checkEqual(yield* store.incrementCounter(key, now + 1, 60_000), 1, "an increment after the delete")
  }),
  gen("releaseCounter takes one back, never below 0, and not from a window that began after `since`", function*(store) {
    const key = counterKey()
    yield* store.releaseCounter(key, now) // a missing key is no error
    yield* checkNone(yield* store.getCounter(key), "a released counter that never existed")
    yield* store.incrementCounter(key, now, 60_000)
    yield* store.incrementCounter(key, now + 10, 60_000)
    yield* store.releaseCounter(key, now + 20)
    yield* expectCounter(key, { count: 1, windowStart: now, updatedAt: now + 10 }, "the counter after a release")
    yield* store.releaseCounter(key, now + 20)
    yield* store.releaseCounter(key, now + 20)
    yield* expectCounter(key, { count: 0, windowStart: now, updatedAt: now + 10 }, "a counter released below 0")
    yield* checkEqual(yield* store.incrementCounter(key, now + 30, 60_000), 1, "an increment after the releases")
    // The window restarts at now + 60,000: a reservation made before it gives nothing back from the new window.
    yield* checkEqual(yield* store.incrementCounter(key, now + 60_000, 60_000), 1, "the first of a new window")
    yield* store.releaseCounter(key, now + 30)
    yield* expectCounter(key, { count: 1, windowStart: now + 60_000, updatedAt: now + 60_000 }, "the new window")
    yield* store.releaseCounter(key, now + 60_000)
    yield* expectCounter(key, { count: 0, windowStart: now + 60_000, updatedAt: now + 60_000 }, "released")
  }),
  gen("20 concurrent releases and 10 increments of a counter at 40 leave exactly 30", function*(store) {
    const key = counterKey()
    yield* Effect.all(Array.from({ length: 40 }, () => store.incrementCounter(key, now, 60_000)), {
      concurrency: "unbounded"
    })
    // The count stays above 0 throughout, so the order does not matter: only a lost update would.
    yield* Effect.all(
      Array.from(
        { length: 30 },
        (_, i) => i % 3 === 2 ? Effect.asVoid(store.incrementCounter(key, now, 60_000)) : store.releaseCounter(key, now)
      ),
      { concurrency: "unbounded" }
    )
    yield* expectCounter(key, { count: 30, windowStart: now, updatedAt: now }, "the counter")
  }),
  gen("purgeCounters removes counters updated at or before olderThan, at most limit per call", function*(store) {
    // Far in the past, so no other case's counters sit between the drain and ours.
    const base = 10_000 + Number.parseInt(hex(2), 16)
    const drain = (rounds: number): Effect.Effect<void, unknown> =>
      rounds > 1000
        ? violation("purgeCounters kept returning a positive count")
        : Effect.flatMap(store.purgeCounters(base, 1000), (n) => n === 0 ? Effect.void : drain(rounds + 1))
    yield* drain(0)
    const [first, second, kept] = [counterKey(), counterKey(), counterKey()]
    yield* store.incrementCounter(first, base + 1, 60_000)
    yield* store.incrementCounter(second, base + 2, 60_000)
    yield* store.incrementCounter(kept, base + 3, 60_000)
    yield* checkEqual(yield* store.purgeCounters(base + 2, 1), 1, "the first purge with limit 1")
    yield* checkEqual(yield* store.purgeCounters(base + 2, 1), 1, "the second purge with limit 1")
    yield* checkEqual(yield* store.purgeCounters(base + 2, 1), 0, "a third purge")
    yield* checkNone(yield* store.getCounter(first), "a purged counter")
    yield* checkNone(yield* store.getCounter(second), "a purged counter")
    yield* expectCounter(kept, { count: 1, windowStart: base + 3, updatedAt: base + 3 }, "a newer counter")
    yield* store.deleteCounter(kept)
  }),
  gen("insertSessionIfPasswordVersion inserts only while the user has that passwordVersion", function*(store) {
    const user = yield* storedUser({ passwordVersion: 4 })
    const current = makeSession(user)
    yield* checkEqual(yield* store.insertSessionIfPasswordVersion(current, 4), true, "an insert at the current version")
    yield* expectSession(current, "the session inserted at the current version")
    const stale = makeSession(user)
    yield* checkEqual(yield* store.insertSessionIfPasswordVersion(stale, 3), false, "an insert at an old version")
    yield* expectNoSession(stale, "a session refused at an old version")
    yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$changed" })
    const late = makeSession(user)
    yield* checkEqual(yield* store.insertSessionIfPasswordVersion(late, 4), false, "an insert after a change")
    yield* expectNoSession(late, "a session refused after a change")
    const orphan = makeSession(makeUser())
    yield* checkEqual(yield* store.insertSessionIfPasswordVersion(orphan, 1), false, "an insert for a missing user")
    yield* expectNoSession(orphan, "a session of a missing user")
  })
]

// --- session management (listing, revoking one or the others, the per-user cap) ---

const listed = (store: UserStore["Type"], userId: UserId) =>
  Effect.map(store.listUserSessions(userId), (sessions) => sessions.map(sessionFields))

/** Sessions in the port's order: `createdAt`, then `id`. */
const oldestFirst = (sessions: ReadonlyArray<SessionRecord>) =>
  [...sessions].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

const sessionManagementCases: ReadonlyArray<Case> = [
  gen("listUserSessions returns that user's sessions, expired ones too, oldest first by createdAt then id", function*(
    store
  ) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    // Two sessions share a createdAt, so the order by id is checked too; one has expired.
    const sessions = [
      makeSession(user, { createdAt: now + 20, lastUsedAt: now + 30 }),
      makeSession(user, { createdAt: now - 5 * day, expiresAt: now - day, lastUsedAt: now - 4 * day }),
      makeSession(user, { createdAt: now + 20 }),
      makeSession(user, { createdAt: now })
    ]
    for (const session of [...sessions, makeSession(other)]) yield* store.insertSession(session)
    yield* checkEqual(yield* listed(store, user.id), oldestFirst(sessions).map(sessionFields), "listUserSessions")
    yield* checkEqual(yield* listed(store, UserId.make(hex(16))), [], "listUserSessions of an unknown user")
  }),
  gen("deleteUserSession deletes the user's own session by id, never another user's", function*(store) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const mine = makeSession(user)
    const sibling = makeSession(user)
    const theirs = makeSession(other)
    for (const session of [mine, sibling, theirs]) yield* store.insertSession(session)
    yield* checkEqual(yield* store.deleteUserSession(user.id, theirs.id), false, "deleteUserSession of another's id")
    yield* expectSession(theirs, "the other user's session")
    yield* checkEqual(yield* store.deleteUserSession(user.id, mine.id), true, "deleteUserSession of an own id")
    yield* expectNoSession(mine, "the deleted session")
    yield* checkEqual(yield* store.deleteUserSession(user.id, mine.id), false, "deleteUserSession a second time")
    yield* checkEqual(yield* store.deleteUserSession(user.id, SessionId.make(hex(16))), false, "an unknown id")
    yield* expectSession(sibling, "the user's other session")
  }),
  gen("deleteUserSession answers false, never a store error, for ids no store could hold", function*(store) {
    const user = yield* storedUser()
    const session = makeSession(user)
    yield* store.insertSession(session)
    // A NUL (PostgreSQL refuses it in text), a lone surrogate (not UTF-8: MariaDB refuses it), non-ASCII, too long.
    for (const id of ["\u0000", `${session.id}\u0000`, "\uD800", "\uDC00abc", "é", "x".repeat(10_000), ""]) {
      yield* checkEqual(yield* store.deleteUserSession(user.id, SessionId.make(id)), false, `${show(id)} as an id`)
    }
    yield* expectSession(session, "the user's session")
  }),
  gen("deleteOtherUserSessions keeps the given session and other users' sessions", function*(store) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const [first, kept, third] = [makeSession(user), makeSession(user), makeSession(user)]
    const theirs = makeSession(other)
    for (const session of [first, kept, third, theirs]) yield* store.insertSession(session)
    yield* checkEqual(yield* store.deleteOtherUserSessions(user.id, kept.tokenHash), 2, "deleteOtherUserSessions")
    yield* checkEqual(yield* listed(store, user.id), [sessionFields(kept)], "the user's sessions afterwards")
    yield* checkEqual(yield* store.deleteOtherUserSessions(user.id, kept.tokenHash), 0, "a second time")
    // Another user's hash protects nothing of this user's, and is not touched either.
    yield* checkEqual(yield* store.deleteOtherUserSessions(user.id, theirs.tokenHash), 1, "keeping another's hash")
    yield* checkEqual(yield* listed(store, user.id), [], "the user's sessions at the end")
    yield* expectSession(theirs, "the other user's session")
  }),
  gen("trimUserSessions removes the oldest beyond keep and returns how many", function*(store) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const sessions = [
      makeSession(user, { createdAt: now + 3 }),
      makeSession(user, { createdAt: now + 1 }),
      makeSession(user, { createdAt: now + 2 }),
      makeSession(user, { createdAt: now + 1 }),
      makeSession(user, { createdAt: now - day, expiresAt: now - 1 })
    ]
    const theirs = [makeSession(other, { createdAt: now - 2 * day }), makeSession(other)]
    for (const session of [...sessions, ...theirs]) yield* store.insertSession(session)
    const ordered = oldestFirst(sessions)
    yield* checkEqual(yield* store.trimUserSessions(user.id, 3), 2, "trimUserSessions to 3")
    yield* checkEqual(yield* listed(store, user.id), ordered.slice(2).map(sessionFields), "the 3 newest remain")
    yield* checkEqual(yield* store.trimUserSessions(user.id, 3), 0, "trimUserSessions to 3 again")
    yield* checkEqual(yield* store.trimUserSessions(user.id, 5), 0, "trimUserSessions to more than there are")
    yield* checkEqual(yield* store.trimUserSessions(user.id, 0), 3, "trimUserSessions to 0")
    yield* checkEqual(yield* listed(store, user.id), [], "the user's sessions at the end")
    yield* checkEqual(yield* listed(store, other.id), oldestFirst(theirs).map(sessionFields), "another's sessions")
  }),
  gen("session management writes roll back with their transaction", function*(store) {
    const user = yield* storedUser()
    const sessions = [makeSession(user, { createdAt: now - 2 }), makeSession(user, { createdAt: now - 1 })]
    for (const session of sessions) yield* store.insertSession(session)
    const extra = makeSession(user)
    const probe = new Probe({ id: hex(4) })
    const result = yield* Effect.either(store.withTransaction(Effect.gen(function*() {
      yield* store.trimUserSessions(user.id, 0)
      yield* store.insertSession(extra)
      yield* store.deleteOtherUserSessions(user.id, extra.tokenHash)
      yield* store.deleteUserSession(user.id, extra.id)
      return yield* probe
    })))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* checkEqual(yield* listed(store, user.id), sessions.map(sessionFields), "the sessions after the rollback")
  })
]

/**
 * Every conformance case, in a stable order. Run each against a fresh or a shared `UserStore`: they do not
 * depend on each other.
 *
 * @since 0.1.0
 * @category cases
 */
export const cases: ReadonlyArray<Case> = [
  ...userCases,
  ...tokenCases,
  ...sessionCases,
  ...purgeCases,
  ...unverifiedCases,
  ...transactionCases,
  ...instantCases,
  ...outboxCases,
  ...counterCases,
  ...sessionManagementCases
]
