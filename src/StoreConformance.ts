/**
 * The contracts of the store ports (`UserStore`, `CounterStore`, `OutboxStore`, `FactorStore`, `SessionDeviceStore`,
 * `SecurityEventStore`, `EmailChangeStore`, `AccountAdminStore`) as executable cases, so any
 * store (the memory and SQL stores here, or a third party's Redis or DynamoDB store) can prove itself with one call,
 * and a store that provides only some of the ports (a Redis `CounterStore`, say) can be certified for those alone.
 *
 * Each case is plain data: a name and an `Effect` that needs only the ports it checks, and that dies with a
 * `ConformanceViolation` when the store breaks the contract. The cases are grouped by port: `userStoreCases`,
 * `counterStoreCases` and `outboxStoreCases` need one port each; `counterWithUserStoreCases` and
 * `outboxWithUserStoreCases` check that a `CounterStore` or `OutboxStore` of the same backend joins the
 * `UserStore`'s transaction, so they apply only to ports provided together. `cases` is all of them but the factor
 * cases (`factorStoreCases`, `factorWithUserStoreCases`), the security-event cases (`securityEventStoreCases`,
 * `securityEventWithUserStoreCases`), `sessionDeviceStoreCases`, `emailChangeStoreCases` and `accountAdminStoreCases`,
 * added in 0.3.0, which a store that provides those ports runs besides (kept out of `cases`, so a store written
 * against 0.2 still runs `cases` unchanged). Nothing here
 * imports a test framework, so the `userharbor/testing` entry stays usable from vitest, jest, node:test or a script.
 *
 * Cases create their own rows with random ids, usernames, emails and token hashes, so they can share one
 * persistent database, run in any order and run again. The purge cases first drain whatever expired before
 * their own instant, so they expect no other writer to be purging the same database at the same time.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type { YieldWrap } from "effect/Utils"
import { randomBytes } from "node:crypto"
import { isDeepStrictEqual } from "node:util"
import {
  AccountAdminStore,
  type AccountAdminStoreService,
  type AccountLockRecord,
  type UserListEntry,
  type UserListFilter,
  type UserListPosition
} from "./AccountAdminStore.js"
import { type CounterRecord, CounterStore, type CounterStoreService } from "./CounterStore.js"
import {
  EmailChangeStore,
  type EmailChangeStoreService,
  type EmailRevertRecord,
  type PendingEmailChange
} from "./EmailChangeStore.js"
import type { TokenPurpose } from "./Errors.js"
import {
  FactorStore,
  type FactorStoreService,
  type LoginChallengeRecord,
  type PasskeyRecord,
  type TotpFactorRecord,
  type WebAuthnChallengeRecord
} from "./FactorStore.js"
import { type OutboxRecord, OutboxStore, type OutboxStoreService } from "./OutboxStore.js"
import { type SecurityEventRecord, SecurityEventStore, type SecurityEventStoreService } from "./SecurityEventStore.js"
import { type SessionDeviceRecord, SessionDeviceStore, type SessionDeviceStoreService } from "./SessionDeviceStore.js"
import { SessionId, UserId } from "./User.js"
import {
  EmailKey,
  type SessionRecord,
  type SessionUser,
  TokenHash,
  type TokenRecord,
  UsernameKey,
  type UserRecord,
  UserStore,
  type UserStoreService
} from "./UserStore.js"

/**
 * One check of the contract. `run` succeeds when the store conforms; it dies with a `ConformanceViolation` (or
 * fails with whatever the store failed with) when it does not. `R` is the ports the case needs; a case of the
 * suite needs at most all three.
 *
 * @since 0.1.0
 * @category models
 */
export interface Case<R = UserStore | CounterStore | OutboxStore> {
  readonly name: string
  readonly run: Effect.Effect<void, unknown, R>
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

// A unique violation that comes back as a `StoreError` is the classic slip of a SQL store: its driver's error code
// was not recognised (Effect 4's `SqlError` no longer carries it in `cause`).
const storeErrorHint = " (a unique violation must be classified, not passed on as a StoreError)"

const checkFailsWith = <A, E extends { readonly _tag: string }, R>(
  effect: Effect.Effect<A, E, R>,
  tag: E["_tag"],
  what: string
): Effect.Effect<void, never, R> =>
  Effect.flatMap(Effect.either(effect), (result) =>
    Either.match(result, {
      onLeft: (error) =>
        check(
          error._tag === tag,
          `${what}: expected ${tag}, got ${error._tag}${error._tag === "StoreError" ? storeErrorHint : ""}`
        ),
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
const newTokenHash = () => TokenHash.make(hex(32))

/** A realistic instant (2026-01-01T00:00:00Z); every case's rows live around it. */
const now = 1_767_225_600_000
const day = 86_400_000

const makeUser = (overrides: Partial<UserRecord> = {}): UserRecord => {
  const tag = hex(8)
  return {
    id: UserId.make(hex(16)),
    username: `Conf${tag}`,
    usernameKey: UsernameKey.make(`conf${tag}`),
    email: `Conf.${tag}@Example.test`,
    emailKey: EmailKey.make(`conf.${tag}@example.test`),
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${hex(16)}$${hex(32)}`,
    passwordVersion: 1,
    verified: false,
    createdAt: now,
    ...overrides
  }
}

const makeSession = (user: UserRecord, overrides: Partial<SessionRecord> = {}): SessionRecord => ({
  id: SessionId.make(hex(16)),
  tokenHash: newTokenHash(),
  userId: user.id,
  createdAt: now,
  expiresAt: now + day,
  lastUsedAt: now,
  ...overrides
})

const makeToken = (user: UserRecord, purpose: TokenPurpose, overrides: Partial<TokenRecord> = {}): TokenRecord => ({
  tokenHash: newTokenHash(),
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
const drainWith = (name: string, purge: (store: UserStoreService) => Effect.Effect<number, unknown>) =>
  Effect.flatMap(UserStore, (store) => {
    const loop = (rounds: number): Effect.Effect<void, unknown> =>
      rounds > 1000
        ? violation(`${name} kept returning a positive count after 1000 rounds of 1000`)
        : Effect.flatMap(purge(store), (n) => n === 0 ? Effect.void : loop(rounds + 1))
    return loop(0)
  })

/** Purges everything that expired at or before `at` (rows other cases or earlier runs left behind). */
const drainExpired = (at: number) => drainWith("purgeExpired", (store) => store.purgeExpired({ now: at, limit: 1000 }))

type Step<R> = YieldWrap<Effect.Effect<unknown, unknown, R>>

/** Cases written as generators over one port's service, like `Effect.gen`; the body may need other ports (`R`). */
const casesOf =
  <I, S, R = I>(tag: Context.Tag<I, S>) =>
  (name: string, body: (service: S) => Generator<Step<R>, void, never>): Case<I | R> => ({
    name,
    run: Effect.flatMap(tag, (service) => Effect.gen(() => body(service)))
  })

const userCase = casesOf<UserStore, UserStoreService>(UserStore)
const counterCase = casesOf<CounterStore, CounterStoreService>(CounterStore)
const outboxCase = casesOf<OutboxStore, OutboxStoreService>(OutboxStore)
/** A case about a port's writes joining the `UserStore`'s transaction: it needs both from one backend. */
const counterWithUserCase = casesOf<UserStore, UserStoreService, UserStore | CounterStore>(UserStore)
const outboxWithUserCase = casesOf<UserStore, UserStoreService, UserStore | OutboxStore>(UserStore)

// --- users ---

const userCases: ReadonlyArray<Case<UserStore>> = [
  userCase("insertUser then findUserById returns the same record", function*(store) {
    const user = makeUser({ verified: true, passwordVersion: 3 })
    yield* store.insertUser(user)
    yield* expectUser(user.id, user, "findUserById")
    yield* checkNone(yield* store.findUserById(UserId.make(hex(16))), "findUserById of an unknown id")
  }),
  userCase("findUserByUsername finds by username key, and only by it", function*(store) {
    const user = yield* storedUser()
    const found = yield* checkSome(yield* store.findUserByUsername(user.usernameKey), "findUserByUsername")
    yield* checkEqual(userFields(found), userFields(user), "findUserByUsername")
    yield* checkNone(
      yield* store.findUserByUsername(UsernameKey.make(`conf${hex(8)}`)),
      "findUserByUsername of an unknown key"
    )
    yield* checkNone(
      yield* store.findUserByUsername(UsernameKey.make(user.emailKey)),
      "findUserByUsername with an email key"
    )
  }),
  userCase("findUserByEmail finds by email key, and only by it", function*(store) {
    const user = yield* storedUser()
    const found = yield* checkSome(yield* store.findUserByEmail(user.emailKey), "findUserByEmail")
    yield* checkEqual(userFields(found), userFields(user), "findUserByEmail")
    yield* checkNone(
      yield* store.findUserByEmail(EmailKey.make(`conf.${hex(8)}@example.test`)),
      "findUserByEmail of an unknown key"
    )
    yield* checkNone(
      yield* store.findUserByEmail(EmailKey.make(user.usernameKey)),
      "findUserByEmail with a username key"
    )
  }),
  userCase(
    "insertUser holds the longest keys validation allows (768 and 762 code points, 4 UTF-8 bytes each)",
    function*(
      store
    ) {
      // `Username.maxKeyLength` and the email key bound: a key validation accepts must never fail as a store error.
      const tag = hex(4)
      const user = makeUser({
        usernameKey: UsernameKey.make(`${tag}${"\u{1D49C}".repeat(768 - tag.length)}`),
        emailKey: EmailKey.make(`${tag}${"\u{1D49C}".repeat(762 - tag.length)}`)
      })
      yield* store.insertUser(user)
      yield* expectUser(user.id, user, "findUserById of a user with the longest keys")
      const found = yield* checkSome(yield* store.findUserByUsername(user.usernameKey), "findUserByUsername")
      yield* checkEqual(found.id, user.id, "findUserByUsername of the longest key")
    }
  ),
  userCase("insertUser fails with UsernameTaken on a duplicate username key", function*(store) {
    const first = yield* storedUser()
    const second = makeUser({ username: first.username.toUpperCase(), usernameKey: first.usernameKey })
    yield* checkFailsWith(store.insertUser(second), "UsernameTaken", "insertUser with a taken username key")
  }),
  userCase("insertUser fails with EmailTaken on a duplicate email key", function*(store) {
    const first = yield* storedUser()
    const second = makeUser({ email: first.email.toUpperCase(), emailKey: first.emailKey })
    yield* checkFailsWith(store.insertUser(second), "EmailTaken", "insertUser with a taken email key")
  }),
  // A SQL store recognises a unique violation by its driver's error code; one that no longer finds the code (as
  // under Effect 4's `SqlError`) would compile and pass everything else, so these two say it in their names.
  userCase("a duplicate username key is UsernameTaken, never a StoreError, in and out of transactions", function*(
    store
  ) {
    const first = yield* storedUser()
    const duplicate = () => makeUser({ usernameKey: first.usernameKey })
    yield* checkFailsWith(store.insertUser(duplicate()), "UsernameTaken", "a duplicate username key")
    yield* checkFailsWith(
      store.withTransaction(store.insertUser(duplicate())),
      "UsernameTaken",
      "a duplicate username key inside a transaction"
    )
    yield* checkFailsWith(
      store.withTransaction(store.withTransaction(store.insertUser(duplicate()))),
      "UsernameTaken",
      "a duplicate username key inside a nested transaction"
    )
  }),
  userCase("a duplicate email key is EmailTaken, never a StoreError, in and out of transactions", function*(store) {
    const first = yield* storedUser()
    const duplicate = () => makeUser({ emailKey: first.emailKey })
    yield* checkFailsWith(store.insertUser(duplicate()), "EmailTaken", "a duplicate email key")
    yield* checkFailsWith(
      store.withTransaction(store.insertUser(duplicate())),
      "EmailTaken",
      "a duplicate email key inside a transaction"
    )
    yield* checkFailsWith(
      store.withTransaction(store.withTransaction(store.insertUser(duplicate()))),
      "EmailTaken",
      "a duplicate email key inside a nested transaction"
    )
  }),
  userCase("insertUser reports UsernameTaken when username and email both collide", function*(store) {
    const first = yield* storedUser()
    // Each key collides with a different user, so a store cannot pass by checking one row.
    const other = yield* storedUser()
    const both = makeUser({ usernameKey: first.usernameKey, emailKey: first.emailKey })
    yield* checkFailsWith(store.insertUser(both), "UsernameTaken", "insertUser colliding on both keys with one user")
    const crossed = makeUser({ usernameKey: other.usernameKey, emailKey: first.emailKey })
    yield* checkFailsWith(store.insertUser(crossed), "UsernameTaken", "insertUser colliding with two users")
  }),
  userCase("a refused insertUser leaves nothing behind", function*(store) {
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
  userCase("keys are compared exactly: accents and ß are not folded by the store", function*(store) {
    // Canonicalisation is the library's job; a store collation that folds accents would refuse real users.
    const tag = hex(6)
    const plain = yield* storedUser({
      usernameKey: UsernameKey.make(`zoe${tag}`),
      emailKey: EmailKey.make(`strasse.${tag}@example.test`)
    })
    const accented = makeUser({
      username: `Zoë${tag}`,
      usernameKey: UsernameKey.make(`zoë${tag}`),
      email: `straße.${tag}@example.test`,
      emailKey: EmailKey.make(`straße.${tag}@example.test`)
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
  userCase("keys are compared exactly: keys differing only in letter case are distinct", function*(store) {
    // A case-insensitive collation (MySQL's default) would refuse these as duplicates.
    const user = yield* storedUser()
    const upper = makeUser({
      usernameKey: UsernameKey.make(user.usernameKey.toUpperCase()),
      emailKey: EmailKey.make(user.emailKey.toUpperCase())
    })
    const longer = makeUser({ usernameKey: UsernameKey.make(`${user.usernameKey}\u00e9`) })
    yield* store.insertUser(upper)
    yield* store.insertUser(longer)
    const byName = yield* checkSome(yield* store.findUserByUsername(upper.usernameKey), "the upper-case username key")
    yield* checkEqual(byName.id, upper.id, "findUserByUsername(upper-case key).id")
    const byEmail = yield* checkSome(yield* store.findUserByEmail(upper.emailKey), "the upper-case email key")
    yield* checkEqual(byEmail.id, upper.id, "findUserByEmail(upper-case key).id")
    const original = yield* checkSome(yield* store.findUserByUsername(user.usernameKey), "the lower-case key")
    yield* checkEqual(original.id, user.id, "findUserByUsername(lower-case key).id")
  }),
  userCase("unicode usernames and emails round-trip exactly and are found by key", function*(store) {
    const tag = hex(4)
    // NFC display forms with combining marks (Devanagari), a 4-byte letter and non-ASCII email parts.
    const user = makeUser({
      username: `Zoë𠀋नमस्ते${tag}`,
      usernameKey: UsernameKey.make(`zoë𠀋नमस्ते${tag}`),
      email: `Jürgen.${tag}@Bücher.example`,
      emailKey: EmailKey.make(`jürgen.${tag}@bücher.example`)
    })
    yield* store.insertUser(user)
    yield* expectUser(user.id, user, "findUserById of a unicode user")
    const byName = yield* checkSome(yield* store.findUserByUsername(user.usernameKey), "findUserByUsername (unicode)")
    yield* checkEqual(userFields(byName), userFields(user), "findUserByUsername (unicode)")
    const byEmail = yield* checkSome(yield* store.findUserByEmail(user.emailKey), "findUserByEmail (unicode)")
    yield* checkEqual(userFields(byEmail), userFields(user), "findUserByEmail (unicode)")
  }),
  userCase("markVerified sets verified and changes nothing else", function*(store) {
    const user = yield* storedUser()
    const bystander = yield* storedUser()
    yield* store.markVerified(user.id)
    yield* expectUser(user.id, { ...user, verified: true }, "the verified user")
    yield* expectUser(bystander.id, bystander, "another user")
    yield* store.markVerified(user.id)
    yield* expectUser(user.id, { ...user, verified: true }, "the user verified twice")
  }),
  userCase("updatePassword sets the hash and increments passwordVersion", function*(store) {
    const user = yield* storedUser({ passwordVersion: 4 })
    const bystander = yield* storedUser()
    const updated = yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$new1" })
    yield* checkEqual(updated, true, "updatePassword without expectedVersion")
    yield* expectUser(user.id, { ...user, passwordHash: "$argon2id$new1", passwordVersion: 5 }, "after one update")
    yield* store.updatePassword({ userId: user.id, passwordHash: "$argon2id$new2" })
    yield* expectUser(user.id, { ...user, passwordHash: "$argon2id$new2", passwordVersion: 6 }, "after two updates")
    yield* expectUser(bystander.id, bystander, "another user")
  }),
  userCase("updatePassword with expectedVersion updates only when the version matches", function*(store) {
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
  userCase("updatePassword with rehash keeps passwordVersion and is still conditional", function*(store) {
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
  userCase("updatePassword of a missing user returns false", function*(store) {
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
  userCase("deleteUser returns true once, then false, and frees the keys", function*(store) {
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
  userCase("deleteUser removes the user's sessions and tokens of both purposes, and no one else's", function*(store) {
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

const tokenCases: ReadonlyArray<Case<UserStore>> = [
  userCase("issueToken then findToken returns the record, under its purpose only", function*(store) {
    const user = yield* storedUser()
    const token = makeToken(user, "reset-password", { createdAt: now - 5, expiresAt: now + 3_600_000 })
    yield* store.issueToken(token)
    yield* expectToken(token, "findToken")
    yield* checkNone(yield* store.findToken("verify-email", token.tokenHash), "findToken under the other purpose")
    yield* checkNone(yield* store.findToken("reset-password", newTokenHash()), "findToken of an unknown hash")
  }),
  userCase("issueToken replaces the user's previous token of that purpose only", function*(store) {
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
  userCase("consumeToken returns the record once, then none", function*(store) {
    const user = yield* storedUser()
    const token = makeToken(user, "verify-email")
    yield* store.issueToken(token)
    const first = yield* checkSome(yield* store.consumeToken("verify-email", token.tokenHash), "first consumeToken")
    yield* checkEqual(tokenFields(first), tokenFields(token), "the consumed record")
    yield* checkNone(yield* store.consumeToken("verify-email", token.tokenHash), "second consumeToken")
    yield* expectNoToken(token, "findToken after consumeToken")
    yield* checkNone(yield* store.consumeToken("verify-email", newTokenHash()), "consumeToken of an unknown hash")
  }),
  userCase("consumeToken returns and removes an expired token (the caller judges expiry)", function*(store) {
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
  userCase("consumeToken under the wrong purpose returns none and keeps the token", function*(store) {
    const user = yield* storedUser()
    const token = makeToken(user, "verify-email")
    yield* store.issueToken(token)
    yield* checkNone(yield* store.consumeToken("reset-password", token.tokenHash), "consumeToken, wrong purpose")
    yield* expectToken(token, "the token after a wrong-purpose consume")
    yield* checkSome(yield* store.consumeToken("verify-email", token.tokenHash), "consumeToken, right purpose")
  }),
  userCase("20 concurrent consumeToken calls: exactly one gets the record", function*(store) {
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
  userCase("8 concurrent issueToken calls for one user and purpose leave exactly one token", function*(store) {
    const user = yield* storedUser()
    const tokens = Array.from({ length: 8 }, () => makeToken(user, "verify-email"))
    yield* Effect.all(tokens.map(store.issueToken), { concurrency: "unbounded" })
    const found = yield* Effect.forEach(tokens, (token) => store.findToken("verify-email", token.tokenHash))
    yield* checkEqual(found.filter(Option.isSome).length, 1, "the tokens left after concurrent issues")
  }),
  userCase("deleteUserTokens removes that user's tokens of that purpose only", function*(store) {
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

const sessionCases: ReadonlyArray<Case<UserStore>> = [
  userCase("insertSession then findSession returns the session joined with its user", function*(store) {
    const user = yield* storedUser({ verified: true })
    const session = makeSession(user, { createdAt: now - 10, lastUsedAt: now - 5 })
    yield* store.insertSession(session)
    const found = yield* checkSome(yield* store.findSession(session.tokenHash), "findSession")
    yield* checkEqual(sessionFields(found.session), sessionFields(session), "findSession's session")
    yield* checkEqual(sessionUserFields(found.user), sessionUserFields(user), "findSession's user")
    yield* check(!("passwordHash" in found.user), "findSession's user has no password hash")
    yield* checkNone(yield* store.findSession(newTokenHash()), "findSession of an unknown hash")
  }),
  userCase("findSession returns the user as currently stored", function*(store) {
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
  userCase("renewSession moves expiresAt and lastUsedAt of that session only", function*(store) {
    const user = yield* storedUser()
    const session = makeSession(user)
    const sibling = makeSession(user)
    yield* store.insertSession(session)
    yield* store.insertSession(sibling)
    yield* store.renewSession({ tokenHash: session.tokenHash, expiresAt: now + 30 * day, lastUsedAt: now + 1234 })
    yield* expectSession({ ...session, expiresAt: now + 30 * day, lastUsedAt: now + 1234 }, "the renewed session")
    yield* expectSession(sibling, "the user's other session")
    // Renewing an unknown session creates nothing.
    const ghost = newTokenHash()
    yield* store.renewSession({ tokenHash: ghost, expiresAt: now + day, lastUsedAt: now })
    yield* checkNone(yield* store.findSession(ghost), "findSession after renewing an unknown hash")
  }),
  userCase("deleteSession returns true once, then false, and leaves other sessions", function*(store) {
    const user = yield* storedUser()
    const session = makeSession(user)
    const sibling = makeSession(user)
    yield* store.insertSession(session)
    yield* store.insertSession(sibling)
    yield* checkEqual(yield* store.deleteSession(session.tokenHash), true, "deleteSession of a stored session")
    yield* expectNoSession(session, "the deleted session")
    yield* checkEqual(yield* store.deleteSession(session.tokenHash), false, "deleteSession a second time")
    yield* checkEqual(yield* store.deleteSession(newTokenHash()), false, "deleteSession of an unknown hash")
    yield* expectSession(sibling, "the user's other session")
    yield* expectUser(user.id, user, "the session's user")
  }),
  userCase("deleteUserSessions removes only that user's sessions and returns how many", function*(store) {
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
  }),
  userCase("insertSessionIfPasswordVersion inserts only while the user has that passwordVersion", function*(store) {
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

// --- purge ---

/** Far below `now`, so only rows written to be expired sit at or before it. */
const purgeAt = now - 400 * day

const purgeCases: ReadonlyArray<Case<UserStore>> = [
  userCase("purgeExpired removes sessions and tokens with expiresAt <= now, and only those", function*(store) {
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
    yield* checkEqual(yield* store.purgeExpired({ now: purgeAt, limit: 100 }), 4, "purgeExpired's count")
    yield* expectNoSession(before, "a session that expired before now")
    yield* expectNoSession(exactly, "a session that expires exactly now")
    yield* expectNoToken(expiredToken, "a token that expires exactly now")
    yield* expectNoToken(otherExpired, "another user's expired token")
    yield* expectSession(after, "a session that expires after now")
    yield* expectToken(liveToken, "a token that expires after now")
    yield* expectUser(user.id, user, "the user whose rows were purged")
    yield* checkEqual(yield* store.purgeExpired({ now: purgeAt, limit: 100 }), 0, "a second purgeExpired")
  }),
  userCase("purgeExpired removes at most limit rows per call until none are left", function*(store) {
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
      const n = yield* store.purgeExpired({ now: purgeAt, limit: 2 })
      yield* check(n >= 0 && n <= 2, `purgeExpired(now, 2) returned ${n}`)
      if (n === 0) break
      counts.push(n)
    }
    yield* checkEqual(counts.reduce((a, b) => a + b, 0), 6, `purgeExpired(now, 2) counts ${show(counts)} in total`)
    for (const session of sessions) yield* expectNoSession(session, "an expired session after the purge")
    for (const token of tokens) yield* expectNoToken(token, "an expired token after the purge")
    yield* expectSession(live, "a live session after the purge")
    yield* checkEqual(yield* store.purgeExpired({ now: purgeAt, limit: 2 }), 0, "purgeExpired after a full purge")
  })
]

// Unverified users of these cases are created long before every other case's rows (which are unverified too).
const unverifiedAt = now - 800 * day

/** Purges every unverified user created at or before `at`. */
const drainUnverified = (at: number) =>
  drainWith("purgeUnverifiedUsers", (store) => store.purgeUnverifiedUsers({ createdBefore: at, limit: 1000 }))

const unverifiedCases: ReadonlyArray<Case<UserStore>> = [
  userCase("purgeUnverifiedUsers removes unverified users created at or before the instant, oldest first", function*(
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
    yield* checkEqual(
      yield* store.purgeUnverifiedUsers({ createdBefore: unverifiedAt, limit: 2 }),
      2,
      "purgeUnverifiedUsers(at, 2)"
    )
    yield* expectNoUser(oldest.id, "the oldest unverified user")
    yield* expectNoUser(older.id, "the second oldest unverified user")
    yield* expectUser(exactly.id, exactly, "an unverified user beyond the limit")
    yield* expectNoToken(token, "a purged user's token")
    yield* expectNoSession(session, "a purged user's session")
    yield* checkEqual(
      yield* store.purgeUnverifiedUsers({ createdBefore: unverifiedAt, limit: 10 }),
      1,
      "purgeUnverifiedUsers again"
    )
    yield* expectNoUser(exactly.id, "an unverified user created exactly at the instant")
    yield* expectUser(verified.id, verified, "a verified user, however old")
    yield* expectUser(newer.id, newer, "an unverified user created after the instant")
    yield* checkEqual(
      yield* store.purgeUnverifiedUsers({ createdBefore: unverifiedAt, limit: 10 }),
      0,
      "purgeUnverifiedUsers a third time"
    )
    const freed = makeUser({ usernameKey: oldest.usernameKey, emailKey: oldest.emailKey })
    yield* store.insertUser(freed)
    yield* expectUser(freed.id, freed, "a new user with a purged user's name and address")
  }),
  userCase("deleteUnverifiedUsers removes only stale unverified holders of the name or the address", function*(store) {
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
  userCase("deleteUnverifiedUsers rolls back with its transaction", function*(store) {
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

const transactionCases: ReadonlyArray<Case<UserStore>> = [
  userCase("withTransaction commits every write and returns the body's value", function*(store) {
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
  userCase("a failed transaction rolls back every kind of write", function*(store) {
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
      yield* store.renewSession({ tokenHash: renewed.tokenHash, expiresAt: now + 9 * day, lastUsedAt: now + 9 })
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
  userCase("a defect in the transaction rolls it back and stays a defect", function*(store) {
    const user = makeUser()
    const defect = new Error("conformance: deliberate defect")
    const exit = yield* Effect.exit(store.withTransaction(Effect.zipRight(store.insertUser(user), Effect.die(defect))))
    yield* check(
      Exit.isFailure(exit) && Option.exists(Cause.dieOption(exit.cause), (d) => same(d, defect)),
      "withTransaction should die with the body's defect"
    )
    yield* expectNoUser(user.id, "a user inserted before the defect")
  }),
  userCase("an interrupted transaction rolls back", function*(store) {
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
  userCase("a nested transaction joins the outer one: an outer failure undoes both", function*(store) {
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
  userCase("a failed nested transaction undoes only its own writes", function*(store) {
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
  userCase("errors from the body keep their type through withTransaction", function*(store) {
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
  }),
  userCase("a refused insertUser inside a transaction leaves the transaction usable and committable", function*(
    store
  ) {
    // PostgreSQL aborts a whole transaction on a failed statement unless the store guards it with a savepoint.
    const first = yield* storedUser()
    const second = makeUser()
    const refused = yield* store.withTransaction(Effect.gen(function*() {
      const byName = yield* Effect.flip(store.insertUser(makeUser({ usernameKey: first.usernameKey })))
      const byEmail = yield* Effect.flip(store.insertUser(makeUser({ emailKey: first.emailKey })))
      yield* store.insertUser(second)
      return [byName._tag, byEmail._tag]
    }))
    yield* checkEqual(refused, ["UsernameTaken", "EmailTaken"], "the refused inserts inside the transaction")
    yield* expectUser(second.id, second, "a user inserted after the refused ones, committed")
  }),
  userCase("a refused insertUser the body does not catch rolls back the transaction's earlier writes", function*(
    store
  ) {
    const holder = yield* storedUser()
    const before = makeUser()
    const result = yield* Effect.either(store.withTransaction(Effect.zipRight(
      store.insertUser(before),
      store.insertUser(makeUser({ usernameKey: holder.usernameKey }))
    )))
    yield* check(
      Either.isLeft(result) && result.left._tag === "UsernameTaken",
      `withTransaction should fail with UsernameTaken, got ${show(result)}`
    )
    yield* expectNoUser(before.id, "a user inserted before the refused one")
    yield* expectUser(holder.id, holder, "the user holding the key")
  })
]

// --- instants ---

/** Writes a user, a session and a token at `at` and reads each back through every read path. */
const roundTrip = (at: number) =>
  Effect.flatMap(UserStore, (store) =>
    Effect.gen(function*() {
      const user = makeUser({ createdAt: at })
      const session = makeSession(user, { createdAt: at + 1, expiresAt: at + 2, lastUsedAt: at + 1 })
      const token = makeToken(user, "verify-email", { createdAt: at + 3, expiresAt: at + 4 })
      yield* store.insertUser(user)
      yield* store.insertSession(session)
      yield* store.issueToken(token)
      yield* expectUser(user.id, user, `a user created at ${at}`)
      yield* expectSession(session, `a session at ${at}`)
      const joined = yield* checkSome(yield* store.findSession(session.tokenHash), `a session at ${at}`)
      yield* checkEqual(sessionUserFields(joined.user), sessionUserFields(user), `findSession's user created at ${at}`)
      yield* expectToken(token, `a token at ${at}`)
      yield* store.renewSession({ tokenHash: session.tokenHash, expiresAt: at + 5, lastUsedAt: at + 6 })
      yield* expectSession({ ...session, expiresAt: at + 5, lastUsedAt: at + 6 }, `a session renewed at ${at}`)
      // Clean up: rows at 0 and 1 would otherwise sit in the database as expired ones.
      yield* store.deleteUser(user.id)
    }))

const instantCases: ReadonlyArray<Case<UserStore>> = [
  userCase("instants round-trip exactly as epoch milliseconds", function*() {
    // 0 and 1 catch epoch and unit mistakes, 2^41 catches 32-bit truncation, a realistic now with odd
    // milliseconds catches rounding to seconds and time-zone shifts.
    for (const at of [0, 1, 2 ** 41, now + 987]) yield* roundTrip(at)
  }),
  userCase(
    "instants up to Date's maximum (year 9999, 8.64e15) round-trip exactly through every read path",
    function*() {
      // A driver that turns them into dates on the way (a DATETIME column, a timestamp type) shifts or refuses them.
      for (const at of [1_700_000_000_123, 253_402_300_799_999, 8_640_000_000_000_000]) yield* roundTrip(at)
    }
  )
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
  Effect.flatMap(OutboxStore, (outbox) => {
    const worker = `drain-${hex(4)}`
    const loop = (rounds: number): Effect.Effect<void, unknown> =>
      rounds > 100
        ? violation("claimEmails kept returning rows after 100 rounds of 1000")
        : Effect.flatMap(outbox.claimEmails({ now: at, limit: 1000, leaseMs: lease, workerId: worker }), (rows) =>
          rows.length === 0
            ? Effect.void
            : Effect.zipRight(
              Effect.forEach(rows, (row) => outbox.dropEmail({ id: row.id, workerId: worker }), { discard: true }),
              loop(rounds + 1)
            ))
    return loop(0)
  })

const idsOf = (rows: ReadonlyArray<OutboxRecord>) => rows.map((row) => row.id).sort()

const outboxCases: ReadonlyArray<Case<OutboxStore>> = [
  outboxCase("outbox: enqueueEmail, claimEmails and completeEmail", function*(outbox) {
    yield* drainOutbox(now)
    const first = makeOutboxRecord({ nextAttemptAt: now - 2 })
    const second = makeOutboxRecord({ nextAttemptAt: now - 1, attempts: 2 })
    const later = makeOutboxRecord({ nextAttemptAt: now + 1 })
    for (const row of [second, later, first]) yield* outbox.enqueueEmail(row)
    const claimed = yield* outbox.claimEmails({ now, limit: 10, leaseMs: lease, workerId: "worker-a" })
    yield* checkEqual(claimed.map(outboxFields), [first, second].map(outboxFields), "claimEmails (oldest due first)")
    yield* checkEqual(
      yield* outbox.claimEmails({ now, limit: 10, leaseMs: lease, workerId: "worker-b" }),
      [],
      "claimEmails while claimed"
    )
    yield* check(
      !(yield* outbox.completeEmail({ id: first.id, workerId: "worker-b" })),
      "completeEmail by a worker without the claim"
    )
    yield* check(yield* outbox.completeEmail({ id: first.id, workerId: "worker-a" }), "completeEmail by the holder")
    yield* check(
      !(yield* outbox.completeEmail({ id: first.id, workerId: "worker-a" })),
      "completeEmail of a deleted row"
    )
    yield* check(yield* outbox.dropEmail({ id: second.id, workerId: "worker-a" }), "dropEmail by the holder")
    // Both are gone for good: not even an expired lease brings them back.
    const afterLease = yield* outbox.claimEmails({ now: now + lease, limit: 10, leaseMs: lease, workerId: "worker-c" })
    yield* checkEqual(idsOf(afterLease), [later.id], "claimEmails after the lease, once `later` is due")
    yield* check(yield* outbox.completeEmail({ id: later.id, workerId: "worker-c" }), "completeEmail of the later row")
  }),
  outboxCase("outbox: claimEmails honours the limit", function*(outbox) {
    yield* drainOutbox(now)
    const rows = Array.from({ length: 5 }, (_, i) => makeOutboxRecord({ nextAttemptAt: now - 10 + i }))
    for (const row of rows) yield* outbox.enqueueEmail(row)
    const firstBatch = yield* outbox.claimEmails({ now, limit: 3, leaseMs: lease, workerId: "worker-a" })
    yield* checkEqual(idsOf(firstBatch), idsOf(rows.slice(0, 3)), "the first batch of 3")
    const secondBatch = yield* outbox.claimEmails({ now, limit: 3, leaseMs: lease, workerId: "worker-a" })
    yield* checkEqual(idsOf(secondBatch), idsOf(rows.slice(3)), "the second batch")
    for (const row of rows) yield* outbox.completeEmail({ id: row.id, workerId: "worker-a" })
  }),
  outboxCase("outbox: retryEmail releases the claim and reschedules", function*(outbox) {
    yield* drainOutbox(now)
    const row = makeOutboxRecord()
    yield* outbox.enqueueEmail(row)
    yield* outbox.claimEmails({ now, limit: 10, leaseMs: lease, workerId: "worker-a" })
    yield* check(
      !(yield* outbox.retryEmail({ id: row.id, workerId: "worker-b", attempts: 1, nextAttemptAt: now + 500 })),
      "retryEmail by a non-holder"
    )
    yield* check(
      yield* outbox.retryEmail({ id: row.id, workerId: "worker-a", attempts: 1, nextAttemptAt: now + 500 }),
      "retryEmail by the holder"
    )
    yield* check(
      !(yield* outbox.completeEmail({ id: row.id, workerId: "worker-a" })),
      "completeEmail after releasing the claim"
    )
    const early = yield* outbox.claimEmails({ now: now + 499, limit: 10, leaseMs: lease, workerId: "worker-b" })
    yield* checkEqual(early, [], "claimEmails before nextAttemptAt")
    const again = yield* outbox.claimEmails({ now: now + 500, limit: 10, leaseMs: lease, workerId: "worker-b" })
    yield* checkEqual(
      again.map(outboxFields),
      [outboxFields({ ...row, attempts: 1, nextAttemptAt: now + 500 })],
      "claimEmails at nextAttemptAt"
    )
    yield* check(yield* outbox.completeEmail({ id: row.id, workerId: "worker-b" }), "completeEmail by the new holder")
  }),
  outboxCase("outbox: a claim whose lease ended can be taken over, and the old holder loses it", function*(outbox) {
    yield* drainOutbox(now)
    const row = makeOutboxRecord()
    yield* outbox.enqueueEmail(row)
    yield* checkEqual(idsOf(yield* outbox.claimEmails({ now, limit: 10, leaseMs: 1000, workerId: "crashed" })), [
      row.id
    ], "the first claim")
    yield* checkEqual(
      yield* outbox.claimEmails({ now: now + 999, limit: 10, leaseMs: 1000, workerId: "worker-b" }),
      [],
      "claimEmails during the lease"
    )
    const taken = yield* outbox.claimEmails({ now: now + 1000, limit: 10, leaseMs: 1000, workerId: "worker-b" })
    yield* checkEqual(idsOf(taken), [row.id], "claimEmails once the lease ended")
    yield* check(
      !(yield* outbox.completeEmail({ id: row.id, workerId: "crashed" })),
      "completeEmail by the holder whose lease ended"
    )
    yield* check(
      !(yield* outbox.retryEmail({ id: row.id, workerId: "crashed", attempts: 1, nextAttemptAt: now })),
      "retryEmail by the holder whose lease ended"
    )
    yield* check(
      !(yield* outbox.dropEmail({ id: row.id, workerId: "crashed" })),
      "dropEmail by the holder whose lease ended"
    )
    yield* check(yield* outbox.completeEmail({ id: row.id, workerId: "worker-b" }), "completeEmail by the new holder")
  }),
  outboxCase("outbox: summarizeEmails counts waiting, due, claimed and failed messages", function*(outbox) {
    yield* drainOutbox(now)
    const before = yield* outbox.summarizeEmails({ now })
    const oldest = makeOutboxRecord({ createdAt: 1, nextAttemptAt: now - 1 })
    const failedLater = makeOutboxRecord({ attempts: 2, nextAttemptAt: now + day })
    const held = makeOutboxRecord({ nextAttemptAt: now - 1 })
    for (const row of [held, oldest, failedLater]) yield* outbox.enqueueEmail(row)
    yield* checkEqual(
      idsOf(yield* outbox.claimEmails({ now, limit: 10, leaseMs: lease, workerId: "worker-a" })),
      [
        held.id,
        oldest.id
      ].sort(),
      "claimEmails of the due rows"
    )
    yield* outbox.retryEmail({ id: oldest.id, workerId: "worker-a", attempts: 0, nextAttemptAt: now })
    const after = yield* outbox.summarizeEmails({ now })
    yield* checkEqual(
      {
        waiting: after.waiting - before.waiting,
        due: after.due - before.due,
        claimed: after.claimed - before.claimed,
        failed: after.failed - before.failed
      },
      { waiting: 3, due: 1, claimed: 1, failed: 1 },
      "summarizeEmails: what the three rows added"
    )
    // Another run's rows may be older still: ours must count, at least.
    yield* check(Option.exists(after.oldestCreatedAt, (at) => at <= 1), "summarizeEmails: the oldest createdAt")
    yield* checkEqual(
      (yield* outbox.summarizeEmails({ now: now + lease })).claimed - before.claimed,
      0,
      "summarizeEmails once the lease ended"
    )
    yield* outbox.completeEmail({ id: held.id, workerId: "worker-a" })
    yield* drainOutbox(now + day)
  }),
  outboxCase("outbox: retryEmailsNow makes waiting messages due, leaving live claims alone", function*(outbox) {
    yield* drainOutbox(now)
    const [first, second] = [
      makeOutboxRecord({ nextAttemptAt: now + day }),
      makeOutboxRecord({ nextAttemptAt: now + day })
    ]
    const held = makeOutboxRecord({ nextAttemptAt: now - 1 })
    for (const row of [first, second, held]) yield* outbox.enqueueEmail(row)
    yield* outbox.claimEmails({ now, limit: 10, leaseMs: lease, workerId: "worker-a" })
    yield* checkEqual(yield* outbox.retryEmailsNow({ now, id: first.id }), 1, "retryEmailsNow of one id")
    const due = yield* outbox.claimEmails({ now, limit: 10, leaseMs: lease, workerId: "worker-b" })
    yield* checkEqual(due.map(outboxFields), [outboxFields({ ...first, nextAttemptAt: now })], "the retried row is due")
    yield* checkEqual(yield* outbox.retryEmailsNow({ now }), 1, "retryEmailsNow of the rest (not the claimed rows)")
    yield* checkEqual(yield* outbox.retryEmailsNow({ now }), 0, "retryEmailsNow again: nothing left to change")
    yield* checkEqual(
      idsOf(yield* outbox.claimEmails({ now, limit: 10, leaseMs: lease, workerId: "worker-c" })),
      [second.id],
      "claimEmails after retryEmailsNow"
    )
    yield* check(yield* outbox.completeEmail({ id: held.id, workerId: "worker-a" }), "the claim was kept")
    yield* outbox.completeEmail({ id: first.id, workerId: "worker-b" })
    yield* outbox.completeEmail({ id: second.id, workerId: "worker-c" })
  }),
  outboxCase("outbox: concurrent claimers never get the same row", function*(outbox) {
    for (const workers of [2, 3, 4, 5]) {
      yield* drainOutbox(now)
      const rows = Array.from({ length: 20 }, () => makeOutboxRecord())
      for (const row of rows) yield* outbox.enqueueEmail(row)
      const names = Array.from({ length: workers }, (_, i) => `worker-${i}`)
      // Small batches, claimed over and over by every worker at once, so claims really race.
      const claimAll = (name: string) => {
        const loop = (got: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, unknown> =>
          Effect.flatMap(outbox.claimEmails({ now, limit: 3, leaseMs: lease, workerId: name }), (batch) =>
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
          yield* check(yield* outbox.completeEmail({ id, workerId: `worker-${i}` }), "completeEmail by its claimer")
        }
      }
    }
  })
]

/**
 * An outbox row written inside the `UserStore`'s transaction belongs to it: outbox mode enqueues the mail in the
 * transaction that writes the data it is about. These cases need both ports from one backend.
 */
const outboxWithUserCases: ReadonlyArray<Case<UserStore | OutboxStore>> = [
  outboxWithUserCase("outbox: a rolled-back transaction leaves no row", function*(store) {
    const outbox = yield* OutboxStore
    yield* drainOutbox(now)
    const row = makeOutboxRecord()
    const probe = new Probe({ id: hex(4) })
    const result = yield* Effect.either(store.withTransaction(Effect.zipRight(outbox.enqueueEmail(row), probe)))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* checkEqual(
      yield* outbox.claimEmails({ now, limit: 10, leaseMs: lease, workerId: "worker-a" }),
      [],
      "claimEmails after the rollback"
    )
    const kept = makeOutboxRecord()
    yield* store.withTransaction(outbox.enqueueEmail(kept))
    yield* checkEqual(idsOf(yield* outbox.claimEmails({ now, limit: 10, leaseMs: lease, workerId: "worker-a" })), [
      kept.id
    ], "a committed row")
    yield* outbox.completeEmail({ id: kept.id, workerId: "worker-a" })
  }),
  outboxWithUserCase("outbox: deleteUser leaves outbox rows alone", function*(store) {
    const outbox = yield* OutboxStore
    yield* drainOutbox(now)
    const user = yield* storedUser()
    const row = makeOutboxRecord()
    yield* store.withTransaction(Effect.zipRight(store.deleteUser(user.id), outbox.enqueueEmail(row)))
    yield* checkEqual(idsOf(yield* outbox.claimEmails({ now, limit: 10, leaseMs: lease, workerId: "worker-a" })), [
      row.id
    ], "the row after deleteUser")
    yield* outbox.completeEmail({ id: row.id, workerId: "worker-a" })
  })
]

// --- throttling and counters ---

const counterKey = () => `conformance:${hex(12)}`

const expectCounter = (key: string, expected: CounterRecord, what: string) =>
  Effect.flatMap(
    CounterStore,
    (counters) =>
      Effect.flatMap(counters.getCounter(key), (found) =>
        Effect.flatMap(checkSome(found, what), (counter) =>
          checkEqual(
            { count: counter.count, windowStart: counter.windowStart, updatedAt: counter.updatedAt },
            expected,
            what
          )))
  )

const counterCases: ReadonlyArray<Case<CounterStore>> = [
  counterCase(
    "incrementCounter starts a counter at 1 and getCounter reads it; an unknown key has none",
    function*(counters) {
      const key = counterKey()
      yield* checkNone(yield* counters.getCounter(key), "a counter never incremented")
      yield* checkEqual(yield* counters.incrementCounter({ key, now, windowMs: 60_000 }), 1, "the first increment")
      yield* expectCounter(key, { count: 1, windowStart: now, updatedAt: now }, "the counter after one increment")
    }
  ),
  counterCase(
    "incrementCounter within the window adds one, keeps windowStart and moves updatedAt",
    function*(counters) {
      const key = counterKey()
      yield* counters.incrementCounter({ key, now, windowMs: 60_000 })
      yield* checkEqual(
        yield* counters.incrementCounter({ key, now: now + 1000, windowMs: 60_000 }),
        2,
        "the second increment"
      )
      // One millisecond before the window ends it is still the same window.
      yield* checkEqual(
        yield* counters.incrementCounter({ key, now: now + 59_999, windowMs: 60_000 }),
        3,
        "an increment at the window's end"
      )
      yield* expectCounter(key, { count: 3, windowStart: now, updatedAt: now + 59_999 }, "the counter")
    }
  ),
  counterCase(
    "incrementCounter restarts at 1 once windowStart <= now - windowMs (a fixed window)",
    function*(counters) {
      const key = counterKey()
      yield* counters.incrementCounter({ key, now, windowMs: 60_000 })
      yield* counters.incrementCounter({ key, now: now + 30_000, windowMs: 60_000 })
      const restarted = yield* counters.incrementCounter({ key, now: now + 60_000, windowMs: 60_000 })
      yield* checkEqual(restarted, 1, "the first increment of a new window")
      yield* expectCounter(key, { count: 1, windowStart: now + 60_000, updatedAt: now + 60_000 }, "the new window")
    }
  ),
  counterCase("incrementCounter with a window of Number.MAX_SAFE_INTEGER never restarts", function*(counters) {
    const key = counterKey()
    yield* counters.incrementCounter({ key, now: 0, windowMs: Number.MAX_SAFE_INTEGER })
    yield* checkEqual(
      yield* counters.incrementCounter({ key, now, windowMs: Number.MAX_SAFE_INTEGER }),
      2,
      "an increment years later"
    )
    yield* expectCounter(key, { count: 2, windowStart: 0, updatedAt: now }, "the counter")
    yield* counters.deleteCounter(key)
  }),
  counterCase(
    "50 concurrent incrementCounter calls each see a distinct count and leave exactly 50",
    function*(counters) {
      const key = counterKey()
      const counts = yield* Effect.all(
        Array.from({ length: 50 }, () => counters.incrementCounter({ key, now, windowMs: 60_000 })),
        { concurrency: "unbounded" }
      )
      yield* checkEqual(
        [...counts].sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
        "the counts seen"
      )
      yield* expectCounter(key, { count: 50, windowStart: now, updatedAt: now }, "the counter after 50 increments")
    }
  ),
  counterCase("deleteCounter removes that counter only; a deleted counter starts again at 1", function*(counters) {
    const key = counterKey()
    const other = counterKey()
    yield* counters.incrementCounter({ key, now, windowMs: 60_000 })
    yield* counters.incrementCounter({ key, now, windowMs: 60_000 })
    yield* counters.incrementCounter({ key: other, now, windowMs: 60_000 })
    yield* counters.deleteCounter(key)
    yield* counters.deleteCounter(counterKey()) // a missing key is no error
    yield* checkNone(yield* counters.getCounter(key), "a deleted counter")
    yield* expectCounter(other, { count: 1, windowStart: now, updatedAt: now }, "another counter")
    yield* checkEqual(
      yield* counters.incrementCounter({ key, now: now + 1, windowMs: 60_000 }),
      1,
      "an increment after the delete"
    )
  }),
  counterCase(
    "releaseCounter takes one back, never below 0, and not from a window that began after `since`",
    function*(counters) {
      const key = counterKey()
      yield* counters.releaseCounter({ key, since: now }) // a missing key is no error
      yield* checkNone(yield* counters.getCounter(key), "a released counter that never existed")
      yield* counters.incrementCounter({ key, now, windowMs: 60_000 })
      yield* counters.incrementCounter({ key, now: now + 10, windowMs: 60_000 })
      yield* counters.releaseCounter({ key, since: now + 20 })
      yield* expectCounter(key, { count: 1, windowStart: now, updatedAt: now + 10 }, "the counter after a release")
      yield* counters.releaseCounter({ key, since: now + 20 })
      yield* counters.releaseCounter({ key, since: now + 20 })
      yield* expectCounter(key, { count: 0, windowStart: now, updatedAt: now + 10 }, "a counter released below 0")
      yield* checkEqual(
        yield* counters.incrementCounter({ key, now: now + 30, windowMs: 60_000 }),
        1,
        "an increment after the releases"
      )
      // The window restarts at now + 60,000: a reservation made before it gives nothing back from the new window.
      yield* checkEqual(
        yield* counters.incrementCounter({ key, now: now + 60_000, windowMs: 60_000 }),
        1,
        "the first of a new window"
      )
      yield* counters.releaseCounter({ key, since: now + 30 })
      yield* expectCounter(key, { count: 1, windowStart: now + 60_000, updatedAt: now + 60_000 }, "the new window")
      yield* counters.releaseCounter({ key, since: now + 60_000 })
      yield* expectCounter(key, { count: 0, windowStart: now + 60_000, updatedAt: now + 60_000 }, "released")
    }
  ),
  counterCase("20 concurrent releases and 10 increments of a counter at 40 leave exactly 30", function*(counters) {
    const key = counterKey()
    yield* Effect.all(Array.from({ length: 40 }, () => counters.incrementCounter({ key, now, windowMs: 60_000 })), {
      concurrency: "unbounded"
    })
    // The count stays above 0 throughout, so the order does not matter: only a lost update would.
    yield* Effect.all(
      Array.from(
        { length: 30 },
        (_, i) =>
          i % 3 === 2
            ? Effect.asVoid(counters.incrementCounter({ key, now, windowMs: 60_000 }))
            : counters.releaseCounter({ key, since: now })
      ),
      { concurrency: "unbounded" }
    )
    yield* expectCounter(key, { count: 30, windowStart: now, updatedAt: now }, "the counter")
  }),
  counterCase(
    "purgeCounters removes counters updated at or before olderThan, at most limit per call",
    function*(counters) {
      // Far in the past, so no other case's counters sit between the drain and ours.
      const base = 10_000 + Number.parseInt(hex(2), 16)
      const drain = (rounds: number): Effect.Effect<void, unknown> =>
        rounds > 1000
          ? violation("purgeCounters kept returning a positive count")
          : Effect.flatMap(
            counters.purgeCounters({ olderThan: base, limit: 1000 }),
            (n) => n === 0 ? Effect.void : drain(rounds + 1)
          )
      yield* drain(0)
      const [first, second, kept] = [counterKey(), counterKey(), counterKey()]
      yield* counters.incrementCounter({ key: first, now: base + 1, windowMs: 60_000 })
      yield* counters.incrementCounter({ key: second, now: base + 2, windowMs: 60_000 })
      yield* counters.incrementCounter({ key: kept, now: base + 3, windowMs: 60_000 })
      yield* checkEqual(
        yield* counters.purgeCounters({ olderThan: base + 2, limit: 1 }),
        1,
        "the first purge with limit 1"
      )
      yield* checkEqual(
        yield* counters.purgeCounters({ olderThan: base + 2, limit: 1 }),
        1,
        "the second purge with limit 1"
      )
      yield* checkEqual(yield* counters.purgeCounters({ olderThan: base + 2, limit: 1 }), 0, "a third purge")
      yield* checkNone(yield* counters.getCounter(first), "a purged counter")
      yield* checkNone(yield* counters.getCounter(second), "a purged counter")
      yield* expectCounter(kept, { count: 1, windowStart: base + 3, updatedAt: base + 3 }, "a newer counter")
      yield* counters.deleteCounter(kept)
    }
  )
]

/**
 * Counter writes made inside the `UserStore`'s transaction belong to it. These cases need both ports from one
 * backend; a counter store of its own (a cache server) is certified by `counterStoreCases` alone.
 */
const counterWithUserCases: ReadonlyArray<Case<UserStore | CounterStore>> = [
  counterWithUserCase("counters: writes inside the UserStore's withTransaction commit and roll back with it", function*(
    store
  ) {
    const counters = yield* CounterStore
    const [key, doomed, created] = [counterKey(), counterKey(), counterKey()]
    yield* counters.incrementCounter({ key, now, windowMs: 60_000 })
    yield* counters.incrementCounter({ key: doomed, now, windowMs: 60_000 })
    const probe = new Probe({ id: hex(4) })
    const result = yield* Effect.either(store.withTransaction(Effect.gen(function*() {
      yield* counters.incrementCounter({ key, now: now + 1, windowMs: 60_000 })
      yield* counters.incrementCounter({ key: created, now: now + 1, windowMs: 60_000 })
      yield* counters.deleteCounter(doomed)
      return yield* probe
    })))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* expectCounter(key, { count: 1, windowStart: now, updatedAt: now }, "a counter incremented, rolled back")
    yield* checkNone(yield* counters.getCounter(created), "a counter created in the rolled-back transaction")
    yield* expectCounter(doomed, { count: 1, windowStart: now, updatedAt: now }, "a counter deleted, rolled back")
    const counted = yield* store.withTransaction(counters.incrementCounter({ key, now: now + 2, windowMs: 60_000 }))
    yield* checkEqual(counted, 2, "an increment inside a committed transaction")
    yield* expectCounter(key, { count: 2, windowStart: now, updatedAt: now + 2 }, "the counter after the commit")
    yield* counters.deleteCounter(key)
    yield* counters.deleteCounter(doomed)
  })
]

// --- session management (listing, revoking one or the others, the per-user cap) ---

const listed = (store: UserStoreService, userId: UserId) =>
  Effect.map(store.listUserSessions(userId), (sessions) => sessions.map(sessionFields))

/** Sessions in the port's order: `createdAt`, then `id`. */
const oldestFirst = (sessions: ReadonlyArray<SessionRecord>) =>
  [...sessions].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

const sessionManagementCases: ReadonlyArray<Case<UserStore>> = [
  userCase(
    "listUserSessions returns that user's sessions, expired ones too, oldest first by createdAt then id",
    function*(
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
    }
  ),
  userCase("deleteUserSession deletes the user's own session by id, never another user's", function*(store) {
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
  userCase("deleteUserSession answers false, never a store error, for ids no store could hold", function*(store) {
    const user = yield* storedUser()
    const session = makeSession(user)
    yield* store.insertSession(session)
    // A NUL (PostgreSQL refuses it in text), a lone surrogate (not UTF-8: MariaDB refuses it), non-ASCII, too long.
    for (const id of ["\u0000", `${session.id}\u0000`, "\uD800", "\uDC00abc", "é", "x".repeat(10_000), ""]) {
      yield* checkEqual(yield* store.deleteUserSession(user.id, SessionId.make(id)), false, `${show(id)} as an id`)
    }
    yield* expectSession(session, "the user's session")
  }),
  userCase("deleteOtherUserSessions keeps the given session and other users' sessions", function*(store) {
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
  userCase("trimUserSessions removes the oldest beyond keep and returns how many", function*(store) {
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
  userCase("session management writes roll back with their transaction", function*(store) {
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

// --- second factors and passkeys ---

/** A factor case: it stores its users through the `UserStore`, as a store with foreign keys needs. */
const factorCase = casesOf<FactorStore, FactorStoreService, UserStore | FactorStore>(FactorStore)
/** A case about the `FactorStore` joining the `UserStore`'s transaction and deletes. */
const factorWithUserCase = casesOf<UserStore, UserStoreService, UserStore | FactorStore>(UserStore)

const sealedSecret = () => `v1.${hex(40)}`

const totpFields = (t: TotpFactorRecord) => ({
  userId: t.userId,
  secret: t.secret,
  active: t.active,
  lastStep: t.lastStep,
  createdAt: t.createdAt,
  activatedAt: Option.getOrNull(t.activatedAt)
})

const passkeyFields = (p: PasskeyRecord) => ({
  credentialId: p.credentialId,
  userId: p.userId,
  publicKey: Array.from(p.publicKey),
  counter: p.counter,
  transports: [...p.transports],
  deviceType: p.deviceType,
  backedUp: p.backedUp,
  name: p.name,
  createdAt: p.createdAt,
  lastUsedAt: Option.getOrNull(p.lastUsedAt)
})

const challengeFields = (c: WebAuthnChallengeRecord) => ({
  tokenHash: c.tokenHash,
  ceremony: c.ceremony,
  userId: Option.getOrNull(c.userId),
  createdAt: c.createdAt,
  expiresAt: c.expiresAt
})

const makeLoginChallenge = (user: UserRecord, overrides: Partial<LoginChallengeRecord> = {}): LoginChallengeRecord => ({
  tokenHash: newTokenHash(),
  userId: user.id,
  passwordVersion: user.passwordVersion,
  createdAt: now,
  expiresAt: now + 300_000,
  ...overrides
})

// A credential id as browsers send them (base64url), and a COSE key's worth of bytes.
const makePasskey = (user: UserRecord, overrides: Partial<PasskeyRecord> = {}): PasskeyRecord => ({
  credentialId: randomBytes(32).toString("base64url"),
  userId: user.id,
  publicKey: new Uint8Array(randomBytes(77)),
  counter: 0,
  transports: ["internal", "hybrid"],
  deviceType: "multiDevice",
  backedUp: true,
  name: "Laptop \u{1F511} Küche",
  createdAt: now,
  lastUsedAt: Option.none(),
  ...overrides
})

const makeWebAuthnChallenge = (
  userId: Option.Option<UserId>,
  overrides: Partial<WebAuthnChallengeRecord> = {}
): WebAuthnChallengeRecord => ({
  tokenHash: newTokenHash(),
  ceremony: "authentication",
  userId,
  createdAt: now,
  expiresAt: now + 300_000,
  ...overrides
})

const activeTotp = (factors: FactorStoreService, user: UserRecord, step: number) =>
  Effect.gen(function*() {
    const secret = sealedSecret()
    yield* factors.putPendingTotp({ userId: user.id, secret, createdAt: now })
    yield* check(yield* factors.activateTotp({ userId: user.id, secret, step, now }), "activateTotp should succeed")
    return secret
  })

const expectPasskey = (passkey: PasskeyRecord, what: string) =>
  Effect.flatMap(
    FactorStore,
    (factors) =>
      Effect.flatMap(factors.findPasskey(passkey.credentialId), (found) =>
        Effect.flatMap(checkSome(found, what), (p) =>
          checkEqual(passkeyFields(p), passkeyFields(passkey), what)))
  )

const factorCases: ReadonlyArray<Case<UserStore | FactorStore>> = [
  factorCase("putPendingTotp stores a pending factor that findTotp returns; a second one replaces it", function*(
    factors
  ) {
    const user = yield* storedUser()
    yield* checkNone(yield* factors.findTotp(user.id), "findTotp before enrolment")
    const first = sealedSecret()
    yield* check(yield* factors.putPendingTotp({ userId: user.id, secret: first, createdAt: now }), "putPendingTotp")
    const found = yield* checkSome(yield* factors.findTotp(user.id), "findTotp")
    yield* checkEqual(totpFields(found), {
      userId: user.id,
      secret: first,
      active: false,
      lastStep: 0,
      createdAt: now,
      activatedAt: null
    }, "the pending factor")
    const second = sealedSecret()
    yield* check(
      yield* factors.putPendingTotp({ userId: user.id, secret: second, createdAt: now + 1 }),
      "putPendingTotp over a pending factor"
    )
    const replaced = yield* checkSome(yield* factors.findTotp(user.id), "findTotp after the second put")
    yield* checkEqual([replaced.secret, replaced.createdAt], [second, now + 1], "the replaced pending factor")
  }),
  factorCase("putPendingTotp never replaces an active factor", function*(factors) {
    const user = yield* storedUser()
    const secret = yield* activeTotp(factors, user, 100)
    yield* check(
      !(yield* factors.putPendingTotp({ userId: user.id, secret: sealedSecret(), createdAt: now })),
      "putPendingTotp over an active factor should answer false"
    )
    const found = yield* checkSome(yield* factors.findTotp(user.id), "findTotp")
    yield* checkEqual(totpFields(found), {
      userId: user.id,
      secret,
      active: true,
      lastStep: 100,
      createdAt: now,
      activatedAt: now
    }, "the active factor, unchanged")
  }),
  factorCase("activateTotp activates only a pending factor with that secret, once", function*(factors) {
    const user = yield* storedUser()
    yield* check(
      !(yield* factors.activateTotp({ userId: user.id, secret: sealedSecret(), step: 5, now })),
      "activateTotp without a factor"
    )
    const secret = sealedSecret()
    yield* factors.putPendingTotp({ userId: user.id, secret, createdAt: now })
    yield* check(
      !(yield* factors.activateTotp({ userId: user.id, secret: sealedSecret(), step: 5, now })),
      "activateTotp with another secret (a restarted enrolment)"
    )
    yield* check(yield* factors.activateTotp({ userId: user.id, secret, step: 5, now: now + 7 }), "activateTotp")
    yield* check(
      !(yield* factors.activateTotp({ userId: user.id, secret, step: 6, now })),
      "activateTotp of an active factor"
    )
    const found = yield* checkSome(yield* factors.findTotp(user.id), "findTotp")
    yield* checkEqual([found.active, found.lastStep, Option.getOrNull(found.activatedAt)], [true, 5, now + 7], "state")
  }),
  factorCase("acceptTotpStep accepts only a step later than the last one, of an active factor", function*(factors) {
    const user = yield* storedUser()
    const pending = yield* storedUser()
    yield* factors.putPendingTotp({ userId: pending.id, secret: sealedSecret(), createdAt: now })
    yield* check(!(yield* factors.acceptTotpStep({ userId: pending.id, step: 10 })), "a pending factor's step")
    yield* check(!(yield* factors.acceptTotpStep({ userId: user.id, step: 10 })), "a step without a factor")
    yield* activeTotp(factors, user, 100)
    yield* check(!(yield* factors.acceptTotpStep({ userId: user.id, step: 100 })), "the confirming step again")
    yield* check(!(yield* factors.acceptTotpStep({ userId: user.id, step: 99 })), "an earlier step")
    yield* check(yield* factors.acceptTotpStep({ userId: user.id, step: 101 }), "the next step")
    yield* check(!(yield* factors.acceptTotpStep({ userId: user.id, step: 101 })), "the same step replayed")
    yield* check(yield* factors.acceptTotpStep({ userId: user.id, step: 2 ** 40 }), "a large step")
    const found = yield* checkSome(yield* factors.findTotp(user.id), "findTotp")
    yield* checkEqual(found.lastStep, 2 ** 40, "the last accepted step")
  }),
  factorCase("20 concurrent acceptTotpStep calls for one step: exactly one is accepted", function*(factors) {
    const user = yield* storedUser()
    yield* activeTotp(factors, user, 100)
    const results = yield* Effect.all(
      Array.from({ length: 20 }, () => factors.acceptTotpStep({ userId: user.id, step: 101 })),
      { concurrency: "unbounded" }
    )
    yield* checkEqual(results.filter((accepted) => accepted).length, 1, "acceptances of one step")
  }),
  factorCase("deleteTotp removes the user's factor only", function*(factors) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    yield* activeTotp(factors, user, 1)
    yield* activeTotp(factors, other, 1)
    yield* check(yield* factors.deleteTotp(user.id), "deleteTotp")
    yield* check(!(yield* factors.deleteTotp(user.id)), "deleteTotp again")
    yield* checkNone(yield* factors.findTotp(user.id), "findTotp after deleteTotp")
    yield* checkSome(yield* factors.findTotp(other.id), "another user's factor")
  }),
  factorCase("recovery codes: replaced as a set, counted, each consumed once, per user", function*(factors) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const old = Array.from({ length: 3 }, newTokenHash)
    const codes = Array.from({ length: 10 }, newTokenHash)
    yield* factors.replaceRecoveryCodes({ userId: user.id, codeHashes: old, createdAt: now })
    yield* factors.replaceRecoveryCodes({ userId: user.id, codeHashes: codes, createdAt: now + 1 })
    yield* factors.replaceRecoveryCodes({ userId: other.id, codeHashes: [old[0]!], createdAt: now })
    yield* checkEqual(yield* factors.countRecoveryCodes(user.id), 10, "codes after the replacement")
    yield* check(!(yield* factors.consumeRecoveryCode(user.id, old[1]!)), "a replaced code")
    yield* check(!(yield* factors.consumeRecoveryCode(user.id, old[0]!)), "another user's code")
    yield* check(yield* factors.consumeRecoveryCode(user.id, codes[3]!), "consumeRecoveryCode")
    yield* check(!(yield* factors.consumeRecoveryCode(user.id, codes[3]!)), "the same code again")
    yield* checkEqual(yield* factors.countRecoveryCodes(user.id), 9, "codes after one use")
    yield* checkEqual(yield* factors.countRecoveryCodes(other.id), 1, "another user's codes")
    yield* factors.deleteRecoveryCodes(user.id)
    yield* checkEqual(yield* factors.countRecoveryCodes(user.id), 0, "codes after deleteRecoveryCodes")
    yield* factors.replaceRecoveryCodes({ userId: other.id, codeHashes: [], createdAt: now })
    yield* checkEqual(yield* factors.countRecoveryCodes(other.id), 0, "codes after an empty replacement")
  }),
  factorCase("20 concurrent consumeRecoveryCode calls: exactly one succeeds", function*(factors) {
    const user = yield* storedUser()
    const code = newTokenHash()
    yield* factors.replaceRecoveryCodes({ userId: user.id, codeHashes: [code], createdAt: now })
    const results = yield* Effect.all(
      Array.from({ length: 20 }, () => factors.consumeRecoveryCode(user.id, code)),
      { concurrency: "unbounded" }
    )
    yield* checkEqual(results.filter((consumed) => consumed).length, 1, "consumers that got the code")
  }),
  factorCase("login challenges: found until consumed, consumed once, expired ones too", function*(factors) {
    const user = yield* storedUser({ passwordVersion: 4 })
    const challenge = makeLoginChallenge(user)
    const expired = makeLoginChallenge(user, { expiresAt: now - 1 })
    yield* factors.insertLoginChallenge(challenge)
    yield* factors.insertLoginChallenge(expired)
    const found = yield* checkSome(yield* factors.findLoginChallenge(challenge.tokenHash), "findLoginChallenge")
    yield* checkEqual({ ...found }, challenge, "the challenge as found")
    const consumed = yield* checkSome(yield* factors.consumeLoginChallenge(challenge.tokenHash), "consume")
    yield* checkEqual({ ...consumed }, challenge, "the challenge as consumed")
    yield* checkNone(yield* factors.consumeLoginChallenge(challenge.tokenHash), "consuming it again")
    yield* checkNone(yield* factors.findLoginChallenge(challenge.tokenHash), "findLoginChallenge after consumption")
    yield* checkSome(yield* factors.consumeLoginChallenge(expired.tokenHash), "consuming an expired challenge")
    yield* checkNone(yield* factors.findLoginChallenge(newTokenHash()), "an unknown challenge")
  }),
  factorCase("20 concurrent consumeLoginChallenge calls: exactly one gets the record", function*(factors) {
    const user = yield* storedUser()
    const challenge = makeLoginChallenge(user)
    yield* factors.insertLoginChallenge(challenge)
    const results = yield* Effect.all(
      Array.from({ length: 20 }, () => factors.consumeLoginChallenge(challenge.tokenHash)),
      { concurrency: "unbounded" }
    )
    yield* checkEqual(results.filter(Option.isSome).length, 1, "consumers that got the challenge")
  }),
  factorCase("insertPasskey then findPasskey returns the same record, bytes and transports included", function*(
    factors
  ) {
    const user = yield* storedUser()
    const passkey = makePasskey(user, { credentialId: randomBytes(1023).toString("base64url") })
    yield* check(yield* factors.insertPasskey(passkey), "insertPasskey")
    yield* expectPasskey(passkey, "findPasskey of the longest credential id")
    const bare = makePasskey(user, { transports: [], deviceType: "singleDevice", backedUp: false, name: "" })
    yield* check(yield* factors.insertPasskey(bare), "insertPasskey without transports")
    yield* expectPasskey(bare, "findPasskey of a passkey without transports")
    yield* checkNone(yield* factors.findPasskey(randomBytes(16).toString("base64url")), "an unknown credential id")
    yield* checkNone(yield* factors.findPasskey("not base64url \u0000 \u00e9"), "a credential id no browser sends")
  }),
  factorCase("insertPasskey refuses a credential id stored already, under any user", function*(factors) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const passkey = makePasskey(user)
    yield* check(yield* factors.insertPasskey(passkey), "insertPasskey")
    yield* check(!(yield* factors.insertPasskey({ ...passkey, name: "again" })), "the same id again")
    yield* check(!(yield* factors.insertPasskey({ ...passkey, userId: other.id })), "the same id for another user")
    yield* expectPasskey(passkey, "the first passkey, unchanged")
  }),
  factorCase("listPasskeys lists the user's passkeys only, oldest first, then by credential id", function*(factors) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const passkeys = [
      makePasskey(user, { createdAt: now + 2 }),
      makePasskey(user, { createdAt: now + 1, credentialId: `B${hex(8)}` }),
      makePasskey(user, { createdAt: now + 1, credentialId: `_${hex(8)}` }),
      makePasskey(user, { createdAt: now + 1, credentialId: `a${hex(8)}` }),
      makePasskey(user, { createdAt: now + 1, credentialId: `-${hex(8)}` })
    ]
    for (const passkey of [...passkeys, makePasskey(other)]) yield* factors.insertPasskey(passkey)
    // Bytewise: `-` < `B` < `_` < `a`.
    const expected = [passkeys[4]!, passkeys[1]!, passkeys[2]!, passkeys[3]!, passkeys[0]!]
    yield* checkEqual(
      (yield* factors.listPasskeys(user.id)).map(passkeyFields),
      expected.map(passkeyFields),
      "listPasskeys"
    )
    yield* checkEqual(yield* factors.listPasskeys(UserId.make(hex(16))), [], "listPasskeys of an unknown user")
  }),
  factorCase("recordPasskeyUse needs a greater counter, or 0 from an authenticator that never counts", function*(
    factors
  ) {
    const user = yield* storedUser()
    const counting = makePasskey(user, { counter: 5 })
    const uncounted = makePasskey(user)
    yield* factors.insertPasskey(counting)
    yield* factors.insertPasskey(uncounted)
    const use = (passkey: PasskeyRecord, counter: number, at: number) =>
      factors.recordPasskeyUse({ credentialId: passkey.credentialId, counter, backedUp: false, lastUsedAt: at })
    yield* check(!(yield* use(counting, 5, now + 1)), "the stored counter again")
    yield* check(!(yield* use(counting, 0, now + 1)), "counter 0 after a counting authenticator")
    yield* check(yield* use(counting, 9, now + 2), "a greater counter")
    yield* expectPasskey(
      { ...counting, counter: 9, backedUp: false, lastUsedAt: Option.some(now + 2) },
      "the passkey after its use"
    )
    yield* check(yield* use(uncounted, 0, now + 3), "counter 0 from an authenticator that never counts")
    yield* check(yield* use(uncounted, 0, now + 4), "counter 0 again")
    yield* check(yield* use(uncounted, 1, now + 5), "an authenticator that starts counting")
    yield* check(!(yield* use(uncounted, 0, now + 6)), "counter 0 after it counted")
    yield* check(
      !(yield* factors.recordPasskeyUse({ credentialId: "unknown", counter: 1, backedUp: true, lastUsedAt: now })),
      "an unknown credential"
    )
  }),
  factorCase("renamePasskey and deletePasskey touch only the user's own passkeys", function*(factors) {
    const user = yield* storedUser()
    const other = yield* storedUser()
    const passkey = makePasskey(user)
    yield* factors.insertPasskey(passkey)
    yield* check(!(yield* factors.renamePasskey(other.id, passkey.credentialId, "mine")), "rename by another user")
    yield* check(!(yield* factors.deletePasskey(other.id, passkey.credentialId)), "delete by another user")
    yield* check(!(yield* factors.renamePasskey(user.id, "no such \u00e9", "x")), "rename of a malformed id")
    yield* check(!(yield* factors.deletePasskey(user.id, "no such \u00e9")), "delete of a malformed id")
    yield* check(yield* factors.renamePasskey(user.id, passkey.credentialId, "Phone"), "renamePasskey")
    yield* check(yield* factors.renamePasskey(user.id, passkey.credentialId, "Phone"), "renaming to the same name")
    yield* expectPasskey({ ...passkey, name: "Phone" }, "the renamed passkey")
    yield* check(yield* factors.deletePasskey(user.id, passkey.credentialId), "deletePasskey")
    yield* check(!(yield* factors.deletePasskey(user.id, passkey.credentialId)), "deletePasskey again")
    yield* checkNone(yield* factors.findPasskey(passkey.credentialId), "findPasskey after deletePasskey")
  }),
  factorCase("WebAuthn challenges: consumed once, under their own ceremony, with or without a user", function*(
    factors
  ) {
    const user = yield* storedUser()
    const registration = makeWebAuthnChallenge(Option.some(user.id), { ceremony: "registration" })
    const usernameless = makeWebAuthnChallenge(Option.none())
    yield* factors.insertWebAuthnChallenge(registration)
    yield* factors.insertWebAuthnChallenge(usernameless)
    yield* checkNone(
      yield* factors.consumeWebAuthnChallenge("authentication", registration.tokenHash),
      "a registration challenge consumed as an authentication one"
    )
    const consumed = yield* checkSome(
      yield* factors.consumeWebAuthnChallenge("registration", registration.tokenHash),
      "consumeWebAuthnChallenge"
    )
    yield* checkEqual(challengeFields(consumed), challengeFields(registration), "the registration challenge")
    yield* checkNone(
      yield* factors.consumeWebAuthnChallenge("registration", registration.tokenHash),
      "consuming it again"
    )
    const results = yield* Effect.all(
      Array.from({ length: 10 }, () => factors.consumeWebAuthnChallenge("authentication", usernameless.tokenHash)),
      { concurrency: "unbounded" }
    )
    yield* checkEqual(results.filter(Option.isSome).length, 1, "concurrent consumers that got the challenge")
    yield* checkEqual(
      results.filter(Option.isSome).map((found) => challengeFields(found.value)),
      [challengeFields(usernameless)],
      "the usernameless challenge"
    )
  }),
  factorCase("purgeExpiredChallenges removes expired login and WebAuthn challenges, at most limit", function*(
    factors
  ) {
    const at = now - 500 * day
    const drain = (): Effect.Effect<void, unknown> =>
      Effect.flatMap(factors.purgeExpiredChallenges({ now: at, limit: 1000 }), (n) => n === 0 ? Effect.void : drain())
    yield* drain()
    const user = yield* storedUser()
    const expired = [
      makeLoginChallenge(user, { expiresAt: at - 1 }),
      makeLoginChallenge(user, { expiresAt: at })
    ]
    const expiredCeremonies = [
      makeWebAuthnChallenge(Option.none(), { expiresAt: at - 2 }),
      makeWebAuthnChallenge(Option.some(user.id), { expiresAt: at, ceremony: "registration" })
    ]
    const live = makeLoginChallenge(user, { expiresAt: at + 1 })
    const liveCeremony = makeWebAuthnChallenge(Option.none(), { expiresAt: at + 1 })
    for (const challenge of [...expired, live]) yield* factors.insertLoginChallenge(challenge)
    for (const challenge of [...expiredCeremonies, liveCeremony]) yield* factors.insertWebAuthnChallenge(challenge)
    yield* checkEqual(yield* factors.purgeExpiredChallenges({ now: at, limit: 0 }), 0, "a purge with limit 0")
    yield* checkEqual(yield* factors.purgeExpiredChallenges({ now: at, limit: 3 }), 3, "the first purge")
    yield* checkEqual(yield* factors.purgeExpiredChallenges({ now: at, limit: 3 }), 1, "the second purge")
    for (const challenge of expired) {
      yield* checkNone(yield* factors.findLoginChallenge(challenge.tokenHash), "an expired login challenge")
    }
    yield* checkSome(yield* factors.findLoginChallenge(live.tokenHash), "a live login challenge")
    yield* checkSome(
      yield* factors.consumeWebAuthnChallenge("authentication", liveCeremony.tokenHash),
      "a live WebAuthn challenge"
    )
  })
]

const factorWithUserCases: ReadonlyArray<Case<UserStore | FactorStore>> = [
  factorWithUserCase("deleteUser removes the user's factor, codes, challenges and passkeys, no one else's", function*(
    store
  ) {
    const factors = yield* FactorStore
    const [user, other] = [yield* storedUser(), yield* storedUser()]
    const stored = Effect.fnUntraced(function*(owner: UserRecord) {
      yield* activeTotp(factors, owner, 1)
      yield* factors.replaceRecoveryCodes({ userId: owner.id, codeHashes: [newTokenHash()], createdAt: now })
      const login = makeLoginChallenge(owner)
      yield* factors.insertLoginChallenge(login)
      const passkey = makePasskey(owner)
      yield* factors.insertPasskey(passkey)
      const ceremony = makeWebAuthnChallenge(Option.some(owner.id), { ceremony: "registration" })
      yield* factors.insertWebAuthnChallenge(ceremony)
      return { login, passkey, ceremony }
    })
    const mine = yield* stored(user)
    const theirs = yield* stored(other)
    yield* check(yield* store.deleteUser(user.id), "deleteUser")
    yield* checkNone(yield* factors.findTotp(user.id), "the deleted user's factor")
    yield* checkEqual(yield* factors.countRecoveryCodes(user.id), 0, "the deleted user's recovery codes")
    yield* checkNone(yield* factors.findLoginChallenge(mine.login.tokenHash), "the deleted user's login challenge")
    yield* checkNone(yield* factors.findPasskey(mine.passkey.credentialId), "the deleted user's passkey")
    yield* checkEqual(yield* factors.listPasskeys(user.id), [], "the deleted user's passkeys")
    yield* checkNone(
      yield* factors.consumeWebAuthnChallenge("registration", mine.ceremony.tokenHash),
      "the deleted user's WebAuthn challenge"
    )
    yield* checkSome(yield* factors.findTotp(other.id), "another user's factor")
    yield* checkEqual(yield* factors.countRecoveryCodes(other.id), 1, "another user's recovery codes")
    yield* checkSome(yield* factors.findLoginChallenge(theirs.login.tokenHash), "another user's login challenge")
    yield* expectPasskey(theirs.passkey, "another user's passkey")
    // A credential id freed by the deletion can be registered again.
    yield* check(yield* factors.insertPasskey({ ...mine.passkey, userId: other.id }), "the freed credential id")
  }),
  factorWithUserCase("deleteUnverifiedUsers removes the deleted users' factors with them", function*(store) {
    const factors = yield* FactorStore
    const user = yield* storedUser({ createdAt: now - 2 * day })
    yield* activeTotp(factors, user, 1)
    const passkey = makePasskey(user)
    yield* factors.insertPasskey(passkey)
    const removed = yield* store.deleteUnverifiedUsers({
      usernameKey: user.usernameKey,
      emailKey: user.emailKey,
      createdBefore: now - day
    })
    yield* checkEqual(removed, 1, "deleteUnverifiedUsers")
    yield* checkNone(yield* factors.findTotp(user.id), "the purged user's factor")
    yield* checkNone(yield* factors.findPasskey(passkey.credentialId), "the purged user's passkey")
  }),
  factorWithUserCase("factor writes inside withTransaction commit and roll back with it", function*(store) {
    const factors = yield* FactorStore
    const user = yield* storedUser()
    const probe = new Probe({ id: hex(8) })
    const passkey = makePasskey(user)
    const login = makeLoginChallenge(user)
    const code = newTokenHash()
    const result = yield* Effect.either(store.withTransaction(Effect.gen(function*() {
      yield* activeTotp(factors, user, 3)
      yield* factors.replaceRecoveryCodes({ userId: user.id, codeHashes: [code], createdAt: now })
      yield* factors.insertPasskey(passkey)
      yield* factors.insertLoginChallenge(login)
      return yield* probe
    })))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* checkNone(yield* factors.findTotp(user.id), "the factor after the rollback")
    yield* checkEqual(yield* factors.countRecoveryCodes(user.id), 0, "the codes after the rollback")
    yield* checkNone(yield* factors.findPasskey(passkey.credentialId), "the passkey after the rollback")
    yield* checkNone(yield* factors.findLoginChallenge(login.tokenHash), "the login challenge after the rollback")
    yield* store.withTransaction(Effect.gen(function*() {
      yield* activeTotp(factors, user, 3)
      yield* factors.replaceRecoveryCodes({ userId: user.id, codeHashes: [code], createdAt: now })
      yield* factors.insertPasskey(passkey)
    }))
    yield* checkSome(yield* factors.findTotp(user.id), "the factor after the commit")
    yield* check(yield* factors.consumeRecoveryCode(user.id, code), "the code after the commit")
    // A duplicate passkey inside a transaction answers false and leaves the transaction usable.
    yield* store.withTransaction(Effect.gen(function*() {
      yield* check(!(yield* factors.insertPasskey(passkey)), "a duplicate passkey inside a transaction")
      yield* factors.insertLoginChallenge(login)
    }))
    yield* checkSome(yield* factors.findLoginChallenge(login.tokenHash), "a write after the refused insert")
  })
]

// --- session devices ---

const deviceCase = casesOf<SessionDeviceStore, SessionDeviceStoreService, UserStore | SessionDeviceStore>(
  SessionDeviceStore
)

const chromeOnLinux =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

const makeDevice = (
  session: SessionRecord,
  overrides: Partial<SessionDeviceRecord> = {}
): SessionDeviceRecord => ({
  sessionId: session.id,
  userAgent: Option.some(chromeOnLinux),
  address: Option.some("203.0.113.0/24"),
  ...overrides
})

/** A stored session of `user` with its client details. */
const sessionWithDevice = (user: UserRecord, overrides: Partial<SessionRecord> = {}) =>
  Effect.gen(function*() {
    const [store, devices] = [yield* UserStore, yield* SessionDeviceStore]
    const session = makeSession(user, overrides)
    const device = makeDevice(session)
    yield* store.withTransaction(Effect.zipRight(store.insertSession(session), devices.insertSessionDevice(device)))
    return { session, device }
  })

const expectDevice = (expected: SessionDeviceRecord, what: string) =>
  Effect.flatMap(
    SessionDeviceStore,
    (devices) =>
      Effect.flatMap(devices.findSessionDevice(expected.sessionId), (found) =>
        Effect.flatMap(checkSome(found, what), (record) => checkEqual(record, expected, what)))
  )

const expectNoDevice = (session: SessionRecord, what: string) =>
  Effect.flatMap(
    SessionDeviceStore,
    (devices) => Effect.flatMap(devices.findSessionDevice(session.id), (found) => checkNone(found, what))
  )

// Sessions of this group's purge case expire long before every other case's.
const devicePurgeAt = now - 500 * day

const deviceCases: ReadonlyArray<Case<UserStore | SessionDeviceStore>> = [
  deviceCase("insertSessionDevice then findSessionDevice returns the same record", function*(devices) {
    const store = yield* UserStore
    const user = yield* storedUser()
    const { device } = yield* sessionWithDevice(user)
    yield* expectDevice(device, "findSessionDevice")
    // Either field may be absent; a user agent keeps every character, up to 512 of them.
    const bare = makeSession(user)
    yield* store.insertSession(bare)
    const none = makeDevice(bare, { userAgent: Option.none(), address: Option.none() })
    yield* devices.insertSessionDevice(none)
    yield* expectDevice(none, "a record without user agent or address")
    const long = makeSession(user)
    yield* store.insertSession(long)
    const unicode = `Mozilla/5.0 (Linux; Android 14; Téléphone ü 電話 😀) ${"x".repeat(460)}`.slice(0, 512)
    const full = makeDevice(long, {
      userAgent: Option.some(unicode),
      address: Option.some("2001:db8:abcd::/48")
    })
    yield* devices.insertSessionDevice(full)
    yield* expectDevice(full, "a 512-character user agent and an IPv6 network")
    yield* checkNone(yield* devices.findSessionDevice(SessionId.make(hex(16))), "findSessionDevice of an unknown id")
  }),
  deviceCase("listUserSessionDevices lists the records of that user's sessions only", function*(devices) {
    const store = yield* UserStore
    const [user, other] = [yield* storedUser(), yield* storedUser()]
    const first = yield* sessionWithDevice(user)
    const second = yield* sessionWithDevice(user, { createdAt: now + 1 })
    yield* store.insertSession(makeSession(user))
    yield* sessionWithDevice(other)
    const listed = yield* devices.listUserSessionDevices(user.id)
    const bySession = (a: SessionDeviceRecord, b: SessionDeviceRecord) =>
      a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0
    yield* checkEqual(
      [...listed].sort(bySession),
      [first.device, second.device].sort(bySession),
      "listUserSessionDevices"
    )
    yield* checkEqual(yield* devices.listUserSessionDevices(UserId.make(hex(16))), [], "an unknown user's records")
  }),
  deviceCase("a record goes with its session, however the session ends", function*() {
    const store = yield* UserStore
    const user = yield* storedUser()
    const logout = yield* sessionWithDevice(user)
    yield* store.deleteSession(logout.session.tokenHash)
    yield* expectNoDevice(logout.session, "the record of a deleted session")
    const revoked = yield* sessionWithDevice(user)
    yield* check(yield* store.deleteUserSession(user.id, revoked.session.id), "deleteUserSession")
    yield* expectNoDevice(revoked.session, "the record of a revoked session")
    const trimmed = yield* sessionWithDevice(user, { createdAt: now - 2 })
    const other = yield* sessionWithDevice(user, { createdAt: now - 1 })
    const kept = yield* sessionWithDevice(user)
    yield* store.trimUserSessions(user.id, 2)
    yield* expectNoDevice(trimmed.session, "the record of a trimmed session")
    yield* expectDevice(other.device, "the record of a session the trim kept")
    yield* store.deleteOtherUserSessions(user.id, kept.session.tokenHash)
    yield* expectNoDevice(other.session, "the record of another session ended")
    yield* expectDevice(kept.device, "the record of the session kept")
    yield* store.deleteUserSessions(user.id)
    yield* expectNoDevice(kept.session, "the record of a session of logoutAll")
    const expired = yield* sessionWithDevice(user, { createdAt: devicePurgeAt - day, expiresAt: devicePurgeAt })
    yield* drainExpired(devicePurgeAt)
    yield* expectNoDevice(expired.session, "the record of a purged session")
    const last = yield* sessionWithDevice(user)
    yield* check(yield* store.deleteUser(user.id), "deleteUser")
    yield* expectNoDevice(last.session, "the record of a deleted user's session")
    const unverified = yield* storedUser({ createdAt: now - 2 * day })
    const purged = yield* sessionWithDevice(unverified)
    yield* store.deleteUnverifiedUsers({
      usernameKey: unverified.usernameKey,
      emailKey: unverified.emailKey,
      createdBefore: now - day
    })
    yield* expectNoDevice(purged.session, "the record of a released unverified user's session")
  }),
  deviceCase("records written inside withTransaction commit and roll back with it", function*(devices) {
    const store = yield* UserStore
    const user = yield* storedUser()
    const probe = new Probe({ id: hex(8) })
    const session = makeSession(user)
    const device = makeDevice(session)
    const result = yield* Effect.either(store.withTransaction(Effect.gen(function*() {
      yield* store.insertSession(session)
      yield* devices.insertSessionDevice(device)
      return yield* probe
    })))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* expectNoSession(session, "the session after the rollback")
    yield* expectNoDevice(session, "the record after the rollback")
    yield* store.withTransaction(Effect.zipRight(store.insertSession(session), devices.insertSessionDevice(device)))
    yield* expectDevice(device, "the record after the commit")
  })
]

// --- changes of email address ---

const emailChangeCase = casesOf<EmailChangeStore, EmailChangeStoreService, UserStore | EmailChangeStore>(
  EmailChangeStore
)

const newAddress = () => {
  const tag = hex(8)
  return { email: `Moved.${tag}@Example.test`, emailKey: EmailKey.make(`moved.${tag}@example.test`) }
}

const makePendingChange = (user: UserRecord, overrides: Partial<PendingEmailChange> = {}): PendingEmailChange => {
  const { email, emailKey } = newAddress()
  return {
    tokenHash: newTokenHash(),
    userId: user.id,
    newEmail: email,
    newEmailKey: emailKey,
    keepSession: newTokenHash(),
    passwordVersion: user.passwordVersion,
    createdAt: now,
    expiresAt: now + day,
    ...overrides
  }
}

const makeRevert = (user: UserRecord, overrides: Partial<EmailRevertRecord> = {}): EmailRevertRecord => ({
  tokenHash: newTokenHash(),
  userId: user.id,
  oldEmail: user.email,
  oldEmailKey: user.emailKey,
  createdAt: now,
  expiresAt: now + 7 * day,
  ...overrides
})

/** The owner of `emailKey` as the `UserStore` finds it. */
const holderOf = (emailKey: EmailKey) =>
  Effect.flatMap(UserStore, (store) => Effect.map(store.findUserByEmail(emailKey), Option.map((user) => user.id)))

/** Each call's outcome: `"moved"`, `"unchanged"` or the error's tag. */
const moveOutcome = (changes: EmailChangeStoreService, userId: UserId, address: ReturnType<typeof newAddress>) =>
  changes.moveEmail({ userId, ...address }).pipe(
    Effect.map((moved) => moved ? "moved" : "unchanged"),
    Effect.catchAll((error) => Effect.succeed(error._tag))
  )

const emailPurgeAt = now - 600 * day

const emailChangeCases: ReadonlyArray<Case<UserStore | EmailChangeStore>> = [
  emailChangeCase("putPendingChange stores a change that findPendingChange returns, and replaces it", function*(
    changes
  ) {
    const user = yield* storedUser()
    const first = makePendingChange(user)
    yield* changes.putPendingChange(first)
    yield* checkEqual(yield* changes.findPendingChange(user.id), Option.some(first), "the pending change")
    const second = makePendingChange(user, { passwordVersion: 2, createdAt: now + 1, expiresAt: now + 2 * day })
    yield* changes.putPendingChange(second)
    yield* checkEqual(yield* changes.findPendingChange(user.id), Option.some(second), "the replacing change")
    yield* checkNone(yield* changes.consumePendingChange(first.tokenHash), "the replaced change's token")
    yield* checkNone(yield* changes.findPendingChange((yield* storedUser()).id), "another user's pending change")
  }),
  emailChangeCase("consumePendingChange is single-use and removes an expired change too", function*(changes) {
    const user = yield* storedUser()
    const expired = makePendingChange(user, { expiresAt: now - day })
    yield* changes.putPendingChange(expired)
    yield* checkNone(yield* changes.consumePendingChange(newTokenHash()), "consumePendingChange, unknown hash")
    yield* checkEqual(yield* changes.consumePendingChange(expired.tokenHash), Option.some(expired), "the consumer")
    yield* checkNone(yield* changes.consumePendingChange(expired.tokenHash), "a second consumer")
    yield* checkNone(yield* changes.findPendingChange(user.id), "the consumed change")
  }),
  emailChangeCase("20 concurrent consumePendingChange calls: exactly one gets the record", function*(changes) {
    const change = makePendingChange(yield* storedUser())
    yield* changes.putPendingChange(change)
    const results = yield* Effect.all(
      Array.from({ length: 20 }, () => changes.consumePendingChange(change.tokenHash)),
      { concurrency: "unbounded" }
    )
    yield* checkEqual(results.filter(Option.isSome).length, 1, "consumers that got the change")
  }),
  emailChangeCase("deletePendingChange removes the user's change only", function*(changes) {
    const [user, other] = [yield* storedUser(), yield* storedUser()]
    const theirs = makePendingChange(other)
    yield* changes.putPendingChange(makePendingChange(user))
    yield* changes.putPendingChange(theirs)
    yield* check(yield* changes.deletePendingChange(user.id), "deletePendingChange")
    yield* check(!(yield* changes.deletePendingChange(user.id)), "deletePendingChange with nothing pending")
    yield* checkNone(yield* changes.findPendingChange(user.id), "the deleted change")
    yield* checkEqual(yield* changes.findPendingChange(other.id), Option.some(theirs), "another user's change")
  }),
  emailChangeCase("moveEmail moves the account and frees the old address", function*(changes) {
    const store = yield* UserStore
    const user = yield* storedUser({ verified: true })
    const address = newAddress()
    yield* check(yield* changes.moveEmail({ userId: user.id, ...address }), "moveEmail")
    yield* expectUser(user.id, { ...user, ...address }, "the moved user")
    yield* checkEqual(yield* holderOf(address.emailKey), Option.some(user.id), "findUserByEmail, new address")
    yield* checkNone(yield* store.findUserByEmail(user.emailKey), "findUserByEmail, old address")
    yield* store.insertUser(makeUser({ email: user.email, emailKey: user.emailKey }))
    yield* check(yield* changes.moveEmail({ userId: user.id, ...address }), "moveEmail to the address it holds")
  }),
  emailChangeCase("moveEmail to another account's address fails with EmailTaken and changes nothing", function*(
    changes
  ) {
    const store = yield* UserStore
    const [user, other] = [yield* storedUser(), yield* storedUser()]
    const taken = { email: other.email.toUpperCase(), emailKey: other.emailKey }
    yield* checkFailsWith(changes.moveEmail({ userId: user.id, ...taken }), "EmailTaken", "moveEmail, taken address")
    yield* expectUser(user.id, user, "the user after the refused move")
    // In a transaction the refusal undoes only itself: the caller's other writes commit.
    const session = makeSession(user)
    yield* store.withTransaction(Effect.gen(function*() {
      yield* store.insertSession(session)
      yield* Effect.flip(changes.moveEmail({ userId: user.id, ...taken }))
      yield* changes.putPendingChange(makePendingChange(user))
    }))
    yield* expectSession(session, "a write before the refused move")
    yield* checkSome(yield* changes.findPendingChange(user.id), "a write after the refused move")
  }),
  emailChangeCase("moveEmail is conditional on the password version and answers false for no user", function*(
    changes
  ) {
    const user = yield* storedUser({ passwordVersion: 3 })
    const address = newAddress()
    yield* check(
      !(yield* changes.moveEmail({ userId: user.id, ...address, expectedPasswordVersion: 2 })),
      "moveEmail, stale password version"
    )
    yield* expectUser(user.id, user, "the user after a stale move")
    yield* check(
      !(yield* changes.moveEmail({ userId: UserId.make(hex(16)), ...newAddress() })),
      "moveEmail, no such user"
    )
    yield* check(
      yield* changes.moveEmail({ userId: user.id, ...address, expectedPasswordVersion: 3 }),
      "moveEmail, current password version"
    )
  }),
  emailChangeCase("20 concurrent moves of two accounts to one address: exactly one account wins", function*(changes) {
    const [first, second] = [yield* storedUser(), yield* storedUser()]
    const address = newAddress()
    const outcomes = yield* Effect.all(
      Array.from({ length: 20 }, (_, i) => moveOutcome(changes, i % 2 === 0 ? first.id : second.id, address)),
      { concurrency: "unbounded" }
    )
    const winner = yield* checkSome(yield* holderOf(address.emailKey), "the address's holder after the race")
    yield* check(winner === first.id || winner === second.id, "the holder is one of the racers")
    const mine = (i: number) => (i % 2 === 0 ? first.id : second.id) === winner
    yield* checkEqual(
      outcomes,
      outcomes.map((_, i) => mine(i) ? "moved" : "EmailTaken"),
      "each racer's outcome (the winner's moves succeed, every other fails with EmailTaken, never StoreError)"
    )
  }),
  emailChangeCase("20 concurrent moves of 20 accounts to one address: exactly one succeeds", function*(changes) {
    const users = yield* Effect.forEach(Array.from({ length: 20 }), () => storedUser())
    const address = newAddress()
    const outcomes = yield* Effect.all(users.map((user) => moveOutcome(changes, user.id, address)), {
      concurrency: "unbounded"
    })
    yield* checkEqual(
      [...outcomes].sort(),
      ["moved", ...Array.from({ length: 19 }, () => "EmailTaken")].sort(),
      "the racers' outcomes"
    )
    const winner = users[outcomes.indexOf("moved")]
    yield* checkEqual(yield* holderOf(address.emailKey), Option.fromNullable(winner?.id), "the address's holder")
  }),
  emailChangeCase("revert tokens are single-use; 20 concurrent consumers: exactly one gets it", function*(changes) {
    const user = yield* storedUser()
    const revert = makeRevert(user, { expiresAt: now - day })
    yield* changes.insertRevertToken(revert)
    yield* checkNone(yield* changes.consumeRevertToken(newTokenHash()), "consumeRevertToken, unknown hash")
    yield* checkEqual(yield* changes.consumeRevertToken(revert.tokenHash), Option.some(revert), "an expired token")
    const raced = makeRevert(user)
    yield* changes.insertRevertToken(raced)
    const results = yield* Effect.all(
      Array.from({ length: 20 }, () => changes.consumeRevertToken(raced.tokenHash)),
      { concurrency: "unbounded" }
    )
    yield* checkEqual(results.filter(Option.isSome).length, 1, "consumers that got the revert token")
  }),
  emailChangeCase("deleteRevertTokens removes the user's tokens created at or after the instant", function*(changes) {
    const [user, other] = [yield* storedUser(), yield* storedUser()]
    const [older, same, newer] = [now - 1, now, now + 1].map((createdAt) => makeRevert(user, { createdAt }))
    const theirs = makeRevert(other, { createdAt: now + 1 })
    yield* Effect.forEach([older, same, newer, theirs].filter(Predicate.isNotUndefined), changes.insertRevertToken)
    yield* checkEqual(yield* changes.deleteRevertTokens({ userId: user.id, createdFrom: now }), 2, "deleted")
    yield* checkSome(yield* changes.consumeRevertToken(older?.tokenHash ?? newTokenHash()), "the older token")
    yield* checkNone(yield* changes.consumeRevertToken(newer?.tokenHash ?? newTokenHash()), "a newer token")
    yield* checkSome(yield* changes.consumeRevertToken(theirs.tokenHash), "another user's token")
  }),
  emailChangeCase("deleteUser removes the user's pending change and revert tokens", function*(changes) {
    const store = yield* UserStore
    const user = yield* storedUser()
    const revert = makeRevert(user)
    yield* changes.putPendingChange(makePendingChange(user))
    yield* changes.insertRevertToken(revert)
    yield* check(yield* store.deleteUser(user.id), "deleteUser")
    yield* checkNone(yield* changes.findPendingChange(user.id), "the deleted user's pending change")
    yield* checkNone(yield* changes.consumeRevertToken(revert.tokenHash), "the deleted user's revert token")
  }),
  emailChangeCase("purgeExpiredEmailChanges removes what expired at or before now, within the limit", function*(
    changes
  ) {
    const drain = (at: number) =>
      Effect.iterate(1, {
        while: (n) => n > 0,
        body: () => changes.purgeExpiredEmailChanges({ now: at, limit: 1000 })
      })
    yield* drain(emailPurgeAt)
    const users = yield* Effect.forEach(Array.from({ length: 3 }), () => storedUser())
    const [a, b, c] = users.filter(Predicate.isNotUndefined)
    if (a === undefined || b === undefined || c === undefined) return yield* violation("three users")
    const due = makePendingChange(a, { expiresAt: emailPurgeAt })
    const live = makePendingChange(b, { expiresAt: emailPurgeAt + 1 })
    const dueRevert = makeRevert(c, { expiresAt: emailPurgeAt - 1 })
    const liveRevert = makeRevert(c, { expiresAt: emailPurgeAt + 1 })
    yield* changes.putPendingChange(due)
    yield* changes.putPendingChange(live)
    yield* changes.insertRevertToken(dueRevert)
    yield* changes.insertRevertToken(liveRevert)
    yield* checkEqual(yield* changes.purgeExpiredEmailChanges({ now: emailPurgeAt, limit: 1 }), 1, "purged, limit 1")
    yield* checkEqual(yield* changes.purgeExpiredEmailChanges({ now: emailPurgeAt, limit: 10 }), 1, "purged, rest")
    yield* checkNone(yield* changes.findPendingChange(a.id), "the expired change")
    yield* checkSome(yield* changes.findPendingChange(b.id), "the live change")
    yield* checkNone(yield* changes.consumeRevertToken(dueRevert.tokenHash), "the expired revert token")
    yield* checkSome(yield* changes.consumeRevertToken(liveRevert.tokenHash), "the live revert token")
  }),
  emailChangeCase("writes inside the UserStore's withTransaction roll back with it", function*(changes) {
    const store = yield* UserStore
    const user = yield* storedUser()
    const revert = makeRevert(user)
    const address = newAddress()
    const probe = new Probe({ id: hex(8) })
    const failed = yield* Effect.flip(store.withTransaction(Effect.gen(function*() {
      yield* changes.putPendingChange(makePendingChange(user))
      yield* changes.insertRevertToken(revert)
      yield* changes.moveEmail({ userId: user.id, ...address })
      return yield* probe
    })))
    yield* check(same(failed, probe), "the transaction's own failure comes out")
    yield* checkNone(yield* changes.findPendingChange(user.id), "the rolled-back pending change")
    yield* checkNone(yield* changes.consumeRevertToken(revert.tokenHash), "the rolled-back revert token")
    yield* expectUser(user.id, user, "the user after the rolled-back move")
  })
]

// --- account administration: locks and the user directory ---

/** An administration case: it stores its users through the `UserStore`, as a store with foreign keys needs. */
const adminCase = casesOf<AccountAdminStore, AccountAdminStoreService, UserStore | AccountAdminStore>(
  AccountAdminStore
)

const makeLock = (user: UserRecord, overrides: Partial<AccountLockRecord> = {}): AccountLockRecord => ({
  userId: user.id,
  reason: `Conformance ${hex(4)}: «payment dispute» — ünïcödé`,
  actorId: `admin-${hex(4)}@example.test`,
  lockedAt: now,
  ...overrides
})

const lockFields = (l: AccountLockRecord) => ({
  userId: l.userId,
  reason: l.reason,
  actorId: l.actorId,
  lockedAt: l.lockedAt
})

const entryFields = (e: UserListEntry) => ({
  user: sessionUserFields(e.user),
  lock: Option.getOrNull(Option.map(e.lock, lockFields))
})

/**
 * A stretch of time no other case's users are created in (years after `now`, at a random offset), so a case can
 * list exactly its own users from a database that others share.
 */
const privateEra = () => now + 1000 * day + randomBytes(4).readUInt32BE() * 1000

/** Every page of the directory under `filter`, `size` entries at a time, from the start. */
const allPages = (admin: AccountAdminStoreService, filter: UserListFilter, size: number) =>
  Effect.gen(function*() {
    const listed: Array<UserListEntry> = []
    let after = Option.none<UserListPosition>()
    for (let page = 0; page < 10_000; page++) {
      const entries = yield* admin.listUsers({ filter, after, limit: size })
      if (entries.length > size) return yield* violation(`listUsers returned ${entries.length} > limit ${size}`)
      listed.push(...entries)
      const last = entries.at(-1)
      if (entries.length < size || last === undefined) return listed
      after = Option.some({ createdAt: last.user.createdAt, id: last.user.id })
    }
    return yield* violation("listUsers never reached the end")
  })

// The directory's order, as the port promises it: `createdAt`, then `id` compared bytewise.
const directoryOrder = (a: { createdAt: number; id: string }, b: { createdAt: number; id: string }) =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

const accountAdminCases: ReadonlyArray<Case<UserStore | AccountAdminStore>> = [
  adminCase("insertLock then findLock returns it; a second lock is refused and the first stays", function*(admin) {
    const user = yield* storedUser()
    const first = makeLock(user)
    yield* checkNone(yield* admin.findLock(user.id), "findLock before any lock")
    yield* check(yield* admin.insertLock(first), "insertLock")
    const found = yield* checkSome(yield* admin.findLock(user.id), "findLock")
    yield* checkEqual(lockFields(found), lockFields(first), "findLock")
    const second = makeLock(user, { reason: "another reason", lockedAt: now + 1 })
    yield* check(!(yield* admin.insertLock(second)), "insertLock on a locked account should answer false")
    const kept = yield* checkSome(yield* admin.findLock(user.id), "findLock after the refused lock")
    yield* checkEqual(lockFields(kept), lockFields(first), "the first lock after the refused one")
  }),
  adminCase("deleteLock removes the lock, once; other accounts keep theirs", function*(admin) {
    const [user, other] = [yield* storedUser(), yield* storedUser()]
    yield* admin.insertLock(makeLock(user))
    const theirs = makeLock(other)
    yield* admin.insertLock(theirs)
    yield* check(yield* admin.deleteLock(user.id), "deleteLock")
    yield* checkNone(yield* admin.findLock(user.id), "findLock after deleteLock")
    yield* check(!(yield* admin.deleteLock(user.id)), "deleteLock of an account no longer locked")
    yield* check(yield* admin.insertLock(makeLock(user)), "insertLock after deleteLock")
    const kept = yield* checkSome(yield* admin.findLock(other.id), "another account's lock")
    yield* checkEqual(lockFields(kept), lockFields(theirs), "another account's lock")
  }),
  adminCase("insertLock answers false for a user that does not exist", function*(admin) {
    const ghost = makeUser()
    yield* check(!(yield* admin.insertLock(makeLock(ghost))), "insertLock of an unknown user")
    yield* checkNone(yield* admin.findLock(ghost.id), "findLock of an unknown user")
  }),
  adminCase("of 10 concurrent insertLock calls on one account, exactly one succeeds", function*(admin) {
    const user = yield* storedUser()
    const results = yield* Effect.all(
      Array.from({ length: 10 }, (_, i) => admin.insertLock(makeLock(user, { reason: `racer ${i}` }))),
      { concurrency: "unbounded" }
    )
    yield* checkEqual(results.filter(Boolean).length, 1, "successful concurrent locks")
  }),
  adminCase("deleting a user removes its lock (deleteUser, deleteUnverifiedUsers)", function*(admin) {
    const store = yield* UserStore
    const user = yield* storedUser({ verified: true })
    yield* admin.insertLock(makeLock(user))
    yield* check(yield* store.deleteUser(user.id), "deleteUser")
    yield* checkNone(yield* admin.findLock(user.id), "the deleted user's lock")
    const stale = yield* storedUser({ createdAt: now - 2 * day })
    yield* admin.insertLock(makeLock(stale))
    const removed = yield* store.deleteUnverifiedUsers({
      usernameKey: stale.usernameKey,
      emailKey: stale.emailKey,
      createdBefore: now - day
    })
    yield* checkEqual(removed, 1, "deleteUnverifiedUsers")
    yield* checkNone(yield* admin.findLock(stale.id), "the purged user's lock")
    // The user can come back under the same id (a restore), unlocked.
    yield* store.insertUser(user)
    yield* checkNone(yield* admin.findLock(user.id), "the lock of a user inserted again")
  }),
  adminCase("lock writes inside withTransaction commit and roll back with it", function*(admin) {
    const store = yield* UserStore
    const user = yield* storedUser()
    const session = makeSession(user)
    yield* store.insertSession(session)
    const probe = new Probe({ id: hex(8) })
    const result = yield* Effect.either(store.withTransaction(Effect.gen(function*() {
      yield* admin.insertLock(makeLock(user))
      yield* store.deleteUserSessions(user.id)
      return yield* probe
    })))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* checkNone(yield* admin.findLock(user.id), "the lock after the rollback")
    yield* expectSession(session, "the session after the rollback")
    yield* store.withTransaction(Effect.gen(function*() {
      yield* admin.insertLock(makeLock(user))
      // A refused second lock leaves the transaction usable.
      yield* check(!(yield* admin.insertLock(makeLock(user))), "a second lock inside a transaction")
      yield* store.deleteUserSessions(user.id)
    }))
    yield* checkSome(yield* admin.findLock(user.id), "the lock after the commit")
    yield* expectNoSession(session, "the session after the commit")
  }),
  adminCase("a lock and a racing session insert: a locked account never keeps the session", function*(admin) {
    const store = yield* UserStore
    // The login's side: insert, then look for a lock in the same transaction and roll back if there is one.
    class Locked extends Data.TaggedError("Locked")<{}> {}
    for (let round = 0; round < 10; round++) {
      const user = yield* storedUser({ verified: true })
      const session = makeSession(user)
      const login = store.withTransaction(Effect.gen(function*() {
        yield* store.insertSession(session)
        if (Option.isSome(yield* admin.findLock(user.id))) return yield* new Locked()
      })).pipe(Effect.catchTag("Locked", () => Effect.void))
      const lock = store.withTransaction(
        Effect.zipRight(admin.insertLock(makeLock(user)), store.deleteUserSessions(user.id))
      )
      yield* Effect.all([login, lock], { concurrency: "unbounded" })
      yield* checkSome(yield* admin.findLock(user.id), `round ${round}: the lock`)
      yield* expectNoSession(session, `round ${round}: the locked account's session`)
    }
  }),
  adminCase("listUsers pages in createdAt, then id, order, with the public fields and the lock", function*(admin) {
    const era = privateEra()
    // Ties on createdAt, so the order of ids decides; ids of two lengths and mixed digits and letters.
    const users: Array<UserRecord> = []
    for (let i = 0; i < 7; i++) {
      users.push(yield* storedUser({ createdAt: era + (i % 3), id: UserId.make(i % 2 === 0 ? hex(16) : hex(8)) }))
    }
    const lock = makeLock(users[2]!)
    yield* admin.insertLock(lock)
    const filter = { createdAfter: era - 1, createdBefore: era + 3 }
    const expected = [...users].sort(directoryOrder).map((user) => ({
      user: sessionUserFields(user),
      lock: user.id === lock.userId ? lockFields(lock) : null
    }))
    for (const size of [1, 2, 3, 7, 100]) {
      const listed = yield* allPages(admin, filter, size)
      yield* checkEqual(listed.map(entryFields), expected, `every page of ${size}`)
    }
    const entry = (yield* admin.listUsers({ filter, after: Option.none(), limit: 1 }))[0]
    yield* check(entry !== undefined && !("passwordHash" in entry.user), "a directory entry has no password hash")
    yield* checkEqual(yield* admin.listUsers({ filter, after: Option.none(), limit: 0 }), [], "a limit of 0")
  }),
  adminCase("listUsers filters: verified, locked, createdBefore and createdAfter (exclusive), combined", function*(
    admin
  ) {
    const era = privateEra()
    const made = Effect.fnUntraced(function*(offset: number, verified: boolean, locked: boolean) {
      const user = yield* storedUser({ createdAt: era + offset, verified })
      if (locked) yield* admin.insertLock(makeLock(user))
      return user
    })
    const a = yield* made(0, true, false)
    const b = yield* made(10, false, true)
    const c = yield* made(20, true, true)
    const d = yield* made(30, false, false)
    const listed = (filter: UserListFilter) =>
      Effect.map(
        allPages(admin, { createdAfter: era - 1, createdBefore: era + 31, ...filter }, 2),
        (entries) => entries.map((entry) => entry.user.id)
      )
    yield* checkEqual(yield* listed({}), [a.id, b.id, c.id, d.id], "no filter")
    yield* checkEqual(yield* listed({ verified: true }), [a.id, c.id], "verified")
    yield* checkEqual(yield* listed({ verified: false }), [b.id, d.id], "unverified")
    yield* checkEqual(yield* listed({ locked: true }), [b.id, c.id], "locked")
    yield* checkEqual(yield* listed({ locked: false }), [a.id, d.id], "not locked")
    yield* checkEqual(yield* listed({ createdAfter: era + 10 }), [c.id, d.id], "createdAfter is exclusive")
    yield* checkEqual(yield* listed({ createdBefore: era + 20 }), [a.id, b.id], "createdBefore is exclusive")
    yield* checkEqual(
      yield* listed({ createdAfter: era, createdBefore: era + 30, verified: true, locked: true }),
      [c.id],
      "all filters together"
    )
    yield* admin.deleteLock(b.id)
    yield* checkEqual(yield* listed({ locked: true }), [c.id], "locked, after an unlock")
  }),
  adminCase("paging while users are inserted lists every user present throughout exactly once", function*(admin) {
    const era = privateEra()
    const present: Array<UserRecord> = []
    for (let i = 0; i < 12; i++) present.push(yield* storedUser({ createdAt: era + i * 10 }))
    const filter = { createdAfter: era - 1, createdBefore: era + 1000 }
    const seen: Array<UserId> = []
    const added: Array<UserId> = []
    let after = Option.none<UserListPosition>()
    for (let page = 0; page < 100; page++) {
      const entries = yield* admin.listUsers({ filter, after, limit: 3 })
      seen.push(...entries.map((entry) => entry.user.id))
      const last = entries.at(-1)
      if (entries.length < 3 || last === undefined) break
      after = Option.some({ createdAt: last.user.createdAt, id: last.user.id })
      // Between pages: one user before the cursor, one on its instant, one after it.
      for (const createdAt of [era + 1, last.user.createdAt, last.user.createdAt + 5]) {
        added.push((yield* storedUser({ createdAt })).id)
      }
    }
    for (const user of present) {
      yield* checkEqual(seen.filter((id) => id === user.id).length, 1, "times a present user was listed")
    }
    yield* checkEqual(new Set(seen).size, seen.length, "users listed twice")
    yield* check(
      seen.every((id) => present.some((user) => user.id === id) || added.includes(id)),
      "only users of this case were listed"
    )
  })
]

// --- security events ---

const eventCase = casesOf<SecurityEventStore, SecurityEventStoreService>(SecurityEventStore)
const eventWithUserCase = casesOf<UserStore, UserStoreService, UserStore | SecurityEventStore>(UserStore)

const makeEvent = (userId: UserId, overrides: Partial<SecurityEventRecord> = {}): SecurityEventRecord => ({
  id: hex(16),
  userId,
  at: now,
  type: "LoginSucceeded",
  payload: JSON.stringify({ note: hex(4) }),
  ...overrides
})
const eventFields = (e: SecurityEventRecord) => ({
  id: e.id,
  userId: e.userId,
  at: e.at,
  type: e.type,
  payload: e.payload
})
const newestEvents = (events: SecurityEventStoreService, userId: UserId, limit = 100) =>
  Effect.map(events.listUserEvents({ userId, limit, before: Option.none() }), (found) => found.map(eventFields))
/** Before any instant the other cases use (2001-01-01), so the purge case can count its own rows. */
const ancient = 978_307_200_000

const eventCases: ReadonlyArray<Case<SecurityEventStore>> = [
  eventCase("appendEvent then listUserEvents returns the event as given", function*(events) {
    const userId = UserId.make(hex(16))
    const event = makeEvent(userId, { payload: JSON.stringify({ text: `"quoted" \\ ünïcödé ${"x".repeat(3000)}` }) })
    yield* events.appendEvent(event)
    yield* checkEqual(yield* newestEvents(events, userId), [eventFields(event)], "listUserEvents")
    yield* checkEqual(yield* newestEvents(events, UserId.make(hex(16))), [], "listUserEvents of another user")
  }),
  eventCase("listUserEvents orders by at, then id, newest first, and only the user's own", function*(events) {
    const userId = UserId.make(hex(16))
    const stored = [
      makeEvent(userId, { id: `b${hex(8)}`, at: now }),
      makeEvent(userId, { id: `a${hex(8)}`, at: now }),
      makeEvent(userId, { id: `c${hex(8)}`, at: now - 1 }),
      makeEvent(userId, { id: `0${hex(8)}`, at: now + day })
    ]
    yield* Effect.forEach(stored, events.appendEvent, { discard: true })
    yield* events.appendEvent(makeEvent(UserId.make(hex(16)), { at: now + 2 * day }))
    const [b, a, c, newest] = stored.map(eventFields)
    yield* checkEqual(yield* newestEvents(events, userId), [newest, b, a, c], "listUserEvents order")
    yield* checkEqual(yield* newestEvents(events, userId, 2), [newest, b], "listUserEvents with a limit")
  }),
  eventCase("listUserEvents pages by cursor without skipping or repeating an event", function*(events) {
    const userId = UserId.make(hex(16))
    const stored = Array.from({ length: 7 }, (_, i) => makeEvent(userId, { at: now + Math.floor(i / 3) }))
    yield* Effect.forEach(stored, events.appendEvent, { discard: true })
    const all = yield* newestEvents(events, userId)
    const pages: Array<ReturnType<typeof eventFields>> = []
    let before = Option.none<{ readonly at: number; readonly id: string }>()
    for (let round = 0; round < 10; round++) {
      const page = (yield* events.listUserEvents({ userId, limit: 3, before })).map(eventFields)
      const last = page.at(-1)
      if (last === undefined) break
      pages.push(...page)
      before = Option.some({ at: last.at, id: last.id })
    }
    yield* checkEqual(all.length, 7, "the events stored")
    yield* checkEqual(pages, all, "the pages, one after the other")
  }),
  eventCase("purgeEvents removes at most limit events older than the instant and returns how many", function*(
    events
  ) {
    const drain = (rounds: number): Effect.Effect<void, unknown> =>
      rounds > 1000
        ? violation("purgeEvents kept returning a positive count")
        : Effect.flatMap(events.purgeEvents({ before: ancient, limit: 1000 }), (n) =>
          n === 0 ? Effect.void : drain(rounds + 1))
    yield* drain(0)
    const userId = UserId.make(hex(16))
    const old = [1, 2, 3].map((i) => makeEvent(userId, { at: ancient - i }))
    const kept = makeEvent(userId, { at: ancient })
    yield* Effect.forEach([...old, kept], events.appendEvent, { discard: true })
    yield* checkEqual(yield* events.purgeEvents({ before: ancient, limit: 2 }), 2, "the first purge")
    yield* checkEqual(yield* events.purgeEvents({ before: ancient, limit: 2 }), 1, "the second purge")
    yield* checkEqual(yield* events.purgeEvents({ before: ancient, limit: 2 }), 0, "the third purge")
    yield* checkEqual(yield* newestEvents(events, userId), [eventFields(kept)], "what the purge kept")
  })
]

const eventWithUserCases: ReadonlyArray<Case<UserStore | SecurityEventStore>> = [
  eventWithUserCase("appendEvent inside withTransaction commits and rolls back with it", function*(store) {
    const events = yield* SecurityEventStore
    const user = yield* storedUser()
    const probe = new Probe({ id: hex(8) })
    const rolledBack = makeEvent(user.id)
    const result = yield* Effect.either(store.withTransaction(Effect.gen(function*() {
      yield* store.markVerified(user.id)
      yield* events.appendEvent(rolledBack)
      return yield* probe
    })))
    yield* check(Either.isLeft(result) && same(result.left, probe), "withTransaction should fail with the body's error")
    yield* checkEqual(yield* newestEvents(events, user.id), [], "the events after the rollback")
    const committed = makeEvent(user.id)
    yield* store.withTransaction(Effect.zipRight(store.markVerified(user.id), events.appendEvent(committed)))
    yield* checkEqual(yield* newestEvents(events, user.id), [eventFields(committed)], "the events after the commit")
  }),
  eventWithUserCase("deleteUser leaves the user's events", function*(store) {
    const events = yield* SecurityEventStore
    const user = yield* storedUser()
    const event = makeEvent(user.id)
    yield* events.appendEvent(event)
    yield* store.withTransaction(
      Effect.zipRight(
        store.deleteUser(user.id),
        events.appendEvent(makeEvent(user.id, { at: now + 1, type: "AccountDeleted" }))
      )
    )
    const left = yield* newestEvents(events, user.id)
    yield* checkEqual(left.map((e) => e.type), ["AccountDeleted", "LoginSucceeded"], "the events after deleteUser")
  })
]

/**
 * The `UserStore` contract: users, single-use tokens, sessions, purging and transactions. A store of accounts runs
 * these whatever else it provides.
 *
 * @since 0.3.0
 * @category cases
 */
export const userStoreCases: ReadonlyArray<Case<UserStore>> = [
  ...userCases,
  ...tokenCases,
  ...sessionCases,
  ...purgeCases,
  ...unverifiedCases,
  ...transactionCases,
  ...instantCases,
  ...sessionManagementCases
]

/**
 * The `CounterStore` contract on its own: a counter store of any kind (one on a cache server too) runs these.
 *
 * @since 0.3.0
 * @category cases
 */
export const counterStoreCases: ReadonlyArray<Case<CounterStore>> = counterCases

/**
 * For a `CounterStore` provided with a `UserStore` on one backend: its writes join the `UserStore`'s transaction.
 *
 * @since 0.3.0
 * @category cases
 */
export const counterWithUserStoreCases: ReadonlyArray<Case<UserStore | CounterStore>> = counterWithUserCases

/**
 * The `OutboxStore` contract on its own: the queue with leases.
 *
 * @since 0.3.0
 * @category cases
 */
export const outboxStoreCases: ReadonlyArray<Case<OutboxStore>> = outboxCases

/**
 * For an `OutboxStore` provided with a `UserStore` on one backend: a row enqueued inside the `UserStore`'s
 * transaction commits and rolls back with it, and deleting a user leaves the outbox alone.
 *
 * @since 0.3.0
 * @category cases
 */
export const outboxWithUserStoreCases: ReadonlyArray<Case<UserStore | OutboxStore>> = outboxWithUserCases

/**
 * The `FactorStore` contract: TOTP factors (pending, active, replay refused by the last accepted step), recovery
 * codes, login challenges, passkeys and WebAuthn challenges, each single-use step atomic. The cases store their
 * users through the `UserStore` (a store with foreign keys needs them), but make no other use of it.
 *
 * @since 0.3.0
 * @category cases
 */
export const factorStoreCases: ReadonlyArray<Case<UserStore | FactorStore>> = factorCases

/**
 * For a `FactorStore` provided with a `UserStore` on one backend: deleting a user removes the user's factors in the
 * same step, and factor writes inside the `UserStore`'s transaction commit and roll back with it.
 *
 * @since 0.3.0
 * @category cases
 */
export const factorWithUserStoreCases: ReadonlyArray<Case<UserStore | FactorStore>> = factorWithUserCases

/**
 * The `SessionDeviceStore` contract, for a store that provides it with a `UserStore` on one backend: records round
 * trip, are listed per user, go with their session however it ends (logout, revocation, trim, purge, deletion of
 * the user), and commit and roll back with the `UserStore`'s transaction.
 *
 * @since 0.3.0
 * @category cases
 */
export const sessionDeviceStoreCases: ReadonlyArray<Case<UserStore | SessionDeviceStore>> = deviceCases

/**
 * The `EmailChangeStore` contract: one pending change per user, single-use confirmation and revert tokens, the move
 * of an account whose uniqueness the store's own key enforces (a race for one address has exactly one winner, the
 * others `EmailTaken`), cascade on user deletion, purging, and writes that join the `UserStore`'s transaction. The
 * move writes users, so these cases need both ports from one backend.
 *
 * @since 0.3.0
 * @category cases
 */
export const emailChangeStoreCases: ReadonlyArray<Case<UserStore | EmailChangeStore>> = emailChangeCases

/**
 * The `AccountAdminStore` contract: one lock per account (a second refused, never replaced; atomic under
 * concurrency), removed with its user, written in the `UserStore`'s transaction, never outlived by a session
 * inserted concurrently with it; and the user directory paged by keyset in `createdAt`, then `id`, order, with its
 * filters, listing every user present throughout a paging exactly once while users are inserted. The cases store
 * their users and sessions through the `UserStore` of the same backend.
 *
 * @since 0.3.0
 * @category cases
 */
export const accountAdminStoreCases: ReadonlyArray<Case<UserStore | AccountAdminStore>> = accountAdminCases

/**
 * Every conformance case, for a store that provides all three ports on one backend (as the memory and SQL stores
 * do), in a stable order. Run each against a fresh or a shared store: they do not depend on each other.
 *
 * @since 0.1.0
 * @category cases
 */
export const cases: ReadonlyArray<Case> = [
  ...userStoreCases,
  ...counterStoreCases,
  ...counterWithUserStoreCases,
  ...outboxStoreCases,
  ...outboxWithUserStoreCases
]

/**
 * The `SecurityEventStore` contract: appended events read back as given, newest first (by `at`, then `id`), paged
 * by a cursor without gaps or repeats, and purged by age at most `limit` at a time.
 *
 * @since 0.3.0
 * @category cases
 */
export const securityEventStoreCases: ReadonlyArray<Case<SecurityEventStore>> = eventCases

/**
 * For a `SecurityEventStore` provided with a `UserStore` on one backend: appends commit and roll back with the
 * `UserStore`'s transaction, and events outlive the account.
 *
 * @since 0.3.0
 * @category cases
 */
export const securityEventWithUserStoreCases: ReadonlyArray<Case<UserStore | SecurityEventStore>> = eventWithUserCases
