/**
 * A `UserStore`, with its `CounterStore`, `OutboxStore`, `FactorStore`, `SessionDeviceStore`, `SecurityEventStore`,
 * `EmailChangeStore` and `AccountAdminStore`, in memory, with a database's semantics: unique keys, one live token per purpose, atomic
 * consumption, cascading deletes and real transactions (a failed, defected or interrupted transaction leaves no
 * trace; a nested one undoes only its own part). For tests and prototypes: its data dies with the process.
 *
 * The ports share one state and one transaction: counter, outbox, factor, session-device, event, email change and lock writes inside the `UserStore`'s
 * `withTransaction` commit and roll back with it. Transactions are serialised by one permit. Statements outside a transaction take the permit too, so they wait
 * for a running transaction as they would for a database lock, and a rollback can never erase them.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { AccountLockRecord } from "./AccountAdminStore.js"
import { type CounterRecord, CounterStore } from "./CounterStore.js"
import { EmailChangeStore, type EmailRevertRecord, type PendingEmailChange } from "./EmailChangeStore.js"
import { EmailTaken, StoreError, type TokenPurpose, UsernameTaken } from "./Errors.js"
import {
  FactorStore,
  type LoginChallengeRecord,
  type PasskeyRecord,
  type TotpFactorRecord,
  type WebAuthnChallengeRecord
} from "./FactorStore.js"
import * as MemoryAccountAdmin from "./internal/memoryAccountAdmin.js"
import * as MemoryEvents from "./internal/memoryEvents.js"
import * as Ports from "./internal/ports.js"
import { type OutboxRecord, OutboxStore } from "./OutboxStore.js"
import { type SessionDeviceRecord, SessionDeviceStore } from "./SessionDeviceStore.js"
import type { UserId } from "./User.js"
import { type SessionRecord, type TokenRecord, type UserRecord, UserStore } from "./UserStore.js"

interface State {
  readonly users: HashMap.HashMap<UserId, UserRecord>
  readonly usernames: HashMap.HashMap<string, UserId>
  readonly emails: HashMap.HashMap<string, UserId>
  readonly sessions: HashMap.HashMap<string, SessionRecord>
  readonly tokens: HashMap.HashMap<string, TokenRecord>
  /** `userId:purpose` → the key of that user's live token */
  readonly liveTokens: HashMap.HashMap<string, string>
  readonly outbox: HashMap.HashMap<string, OutboxRow>
  readonly counters: HashMap.HashMap<string, CounterRecord>
  readonly totp: HashMap.HashMap<UserId, TotpFactorRecord>
  /** `userId:codeHash` → the user's id */
  readonly recoveryCodes: HashMap.HashMap<string, UserId>
  readonly loginChallenges: HashMap.HashMap<string, LoginChallengeRecord>
  readonly passkeys: HashMap.HashMap<string, PasskeyRecord>
  /** `ceremony:tokenHash` → the challenge */
  readonly webAuthnChallenges: HashMap.HashMap<string, WebAuthnChallengeRecord>
  /** session id → the session's client details */
  readonly sessionDevices: HashMap.HashMap<string, SessionDeviceRecord>
  /** One pending change of address per user */
  readonly emailChanges: HashMap.HashMap<UserId, PendingEmailChange>
  /** `tokenHash` → the revert token */
  readonly emailReverts: HashMap.HashMap<string, EmailRevertRecord>
  /** Never removed with their user: only the retention purge removes them. */
  readonly events: MemoryEvents.Events
  readonly locks: HashMap.HashMap<UserId, AccountLockRecord>
}

interface OutboxRow {
  readonly record: OutboxRecord
  readonly claimedBy: string | undefined
  readonly leaseUntil: number
}

const empty: State = {
  users: HashMap.empty(),
  usernames: HashMap.empty(),
  emails: HashMap.empty(),
  sessions: HashMap.empty(),
  tokens: HashMap.empty(),
  liveTokens: HashMap.empty(),
  outbox: HashMap.empty(),
  counters: HashMap.empty(),
  totp: HashMap.empty(),
  recoveryCodes: HashMap.empty(),
  loginChallenges: HashMap.empty(),
  passkeys: HashMap.empty(),
  webAuthnChallenges: HashMap.empty(),
  sessionDevices: HashMap.empty(),
  emailChanges: HashMap.empty(),
  emailReverts: HashMap.empty(),
  events: HashMap.empty(),
  locks: HashMap.empty()
}

/**
 * Everything the store holds, as plain sorted arrays, so a test can compare the store before and after a call.
 * Throttling counters are left out (failed calls write them on purpose); read them with `getCounter`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly users: ReadonlyArray<UserRecord>
  readonly sessions: ReadonlyArray<SessionRecord>
  readonly tokens: ReadonlyArray<TokenRecord>
  readonly outbox: ReadonlyArray<OutboxRecord>
}

/**
 * The shape of the `MemoryUserStore` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface MemoryUserStoreService {
  readonly snapshot: Effect.Effect<Snapshot>
}

/**
 * Read access to the memory store's contents, for tests.
 *
 * @since 0.1.0
 * @category tags
 */
export class MemoryUserStore
  extends Context.Tag("userharbor/MemoryUserStore")<MemoryUserStore, MemoryUserStoreService>()
{}

const tokenKey = (purpose: TokenPurpose, tokenHash: string) => `${purpose}:${tokenHash}`
const liveKey = (userId: UserId, purpose: TokenPurpose) => `${userId}:${purpose}`

const removeToken = (state: State, key: string): State =>
  Option.match(HashMap.get(state.tokens, key), {
    onNone: () => state,
    onSome: (token) => ({
      ...state,
      tokens: HashMap.remove(state.tokens, key),
      liveTokens: HashMap.remove(state.liveTokens, liveKey(token.userId, token.purpose))
    })
  })

// Removes sessions with their client details, as the SQL stores' foreign key cascades.
const dropSessions = (state: State, doomed: Iterable<SessionRecord>): [number, State] => {
  let sessions = state.sessions
  let sessionDevices = state.sessionDevices
  let removed = 0
  for (const session of doomed) {
    if (!HashMap.has(sessions, session.tokenHash)) continue
    sessions = HashMap.remove(sessions, session.tokenHash)
    sessionDevices = HashMap.remove(sessionDevices, session.id)
    removed++
  }
  return [removed, { ...state, sessions, sessionDevices }]
}

const removeUserSessions = (state: State, userId: UserId): [number, State] =>
  dropSessions(state, HashMap.values(HashMap.filter(state.sessions, (session) => session.userId === userId)))

const recoveryKey = (userId: UserId, codeHash: string) => `${userId}:${codeHash}`
const challengeKey = (ceremony: string, tokenHash: string) => `${ceremony}:${tokenHash}`

// Everything of the user's that the factor port holds, as the SQL stores' foreign keys cascade.
const removeFactors = (s: State, id: UserId): State => ({
  ...s,
  totp: HashMap.remove(s.totp, id),
  recoveryCodes: HashMap.filter(s.recoveryCodes, (owner) => owner !== id),
  loginChallenges: HashMap.filter(s.loginChallenges, (challenge) => challenge.userId !== id),
  passkeys: HashMap.filter(s.passkeys, (passkey) => passkey.userId !== id),
  webAuthnChallenges: HashMap.filter(
    s.webAuthnChallenges,
    (challenge) => !Option.contains(challenge.userId, id)
  )
})

// The user's pending change and revert tokens, as the SQL stores' foreign keys cascade.
const removeEmailChanges = (s: State, id: UserId): State => ({
  ...s,
  emailChanges: HashMap.remove(s.emailChanges, id),
  emailReverts: HashMap.filter(s.emailReverts, (revert) => revert.userId !== id)
})

// The user with every session, token, factor, change of address and lock.
const removeUser = (s: State, id: UserId): State => {
  const user = HashMap.get(s.users, id)
  if (Option.isNone(user)) return s
  const [, withoutSessions] = removeUserSessions(s, id)
  const doomed = HashMap.filter(s.tokens, (token) => token.userId === id)
  const withoutTokens = HashMap.reduce(doomed, withoutSessions, (acc, _, key) => removeToken(acc, key))
  return {
    ...MemoryAccountAdmin.removeLock(removeEmailChanges(removeFactors(withoutTokens, id), id), id),
    users: HashMap.remove(s.users, id),
    usernames: HashMap.remove(s.usernames, user.value.usernameKey),
    emails: HashMap.remove(s.emails, user.value.emailKey)
  }
}

const claimedRow = (state: State, id: string, workerId: string): Option.Option<OutboxRow> =>
  Option.filter(HashMap.get(state.outbox, id), (row) => row.claimedBy === workerId)

const removeClaimed = (state: State, id: string, workerId: string): [boolean, State] =>
  Option.isSome(claimedRow(state, id, workerId))
    ? [true, { ...state, outbox: HashMap.remove(state.outbox, id) }]
    : [false, state]

// The port's session order: `createdAt`, then `id`.
const oldestFirst = (a: SessionRecord, b: SessionRecord) =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

const userSessions = (state: State, userId: UserId): Array<SessionRecord> =>
  Array.from(HashMap.values(state.sessions)).filter((session) => session.userId === userId).sort(oldestFirst)

const byKey = <A>(key: (a: A) => string) => (a: A, b: A) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0

/**
 * Builds an empty store: its ports over one state and one transaction, and its inspector.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.gen(function*() {
  const state = yield* Ref.make(empty)
  // What another connection would read: `state` as of the last statement or transaction that ended. `snapshot`
  // reads it without waiting, so it never sees a transaction's uncommitted (perhaps later rolled back) writes.
  const committed = yield* Ref.make(empty)
  const publish = Effect.flatMap(Ref.get(state), (s) => Ref.set(committed, s))
  const lock = yield* Effect.makeSemaphore(1)
  const inTransaction = FiberRef.unsafeMake(false)

  // A statement outside a transaction waits for the running transaction, like a row lock would.
  const statement = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.flatMap(
      FiberRef.get(inTransaction),
      (inside) => inside ? effect : lock.withPermits(1)(Effect.ensuring(effect, publish))
    )
  const read = <A>(f: (s: State) => A) => statement(Effect.map(Ref.get(state), f))
  const write = <A>(f: (s: State) => readonly [A, State]) => statement(Ref.modify(state, f))

  const withTransaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    // Snapshot on entry, restore on any failure: an outer call is a transaction, a nested one a savepoint.
    const body = Effect.flatMap(
      Ref.get(state),
      (snapshot) => Effect.onExit(self, (exit) => Exit.isSuccess(exit) ? Effect.void : Ref.set(state, snapshot))
    )
    return Effect.flatMap(
      FiberRef.get(inTransaction),
      (inside) =>
        inside ? body : lock.withPermits(1)(Effect.ensuring(Effect.locally(body, inTransaction, true), publish))
    )
  }

  const store = UserStore.of({
    insertUser: (user) =>
      statement(
        Effect.flatten(Ref.modify(state, (s): readonly [Effect.Effect<void, UsernameTaken | EmailTaken>, State] => {
          if (HashMap.has(s.usernames, user.usernameKey)) return [Effect.fail(new UsernameTaken()), s]
          if (HashMap.has(s.emails, user.emailKey)) return [Effect.fail(new EmailTaken()), s]
          return [Effect.void, {
            ...s,
            users: HashMap.set(s.users, user.id, user),
            usernames: HashMap.set(s.usernames, user.usernameKey, user.id),
            emails: HashMap.set(s.emails, user.emailKey, user.id)
          }]
        }))
      ),
    findUserById: (id) => read((s) => HashMap.get(s.users, id)),
    findUserByUsername: (key) =>
      read((s) => Option.flatMap(HashMap.get(s.usernames, key), (id) => HashMap.get(s.users, id))),
    findUserByEmail: (key) => read((s) => Option.flatMap(HashMap.get(s.emails, key), (id) => HashMap.get(s.users, id))),
    markVerified: (id) =>
      write((s) => [undefined, { ...s, users: HashMap.modify(s.users, id, (user) => ({ ...user, verified: true })) }]),
    updatePassword: ({ expectedVersion, passwordHash, rehash, userId }) =>
      write((s) => {
        const user = HashMap.get(s.users, userId)
        if (Option.isNone(user)) return [false, s]
        if (expectedVersion !== undefined && user.value.passwordVersion !== expectedVersion) return [false, s]
        const passwordVersion = user.value.passwordVersion + (rehash === true ? 0 : 1)
        const updated = { ...user.value, passwordHash, passwordVersion }
        return [true, { ...s, users: HashMap.set(s.users, userId, updated) }]
      }),
    deleteUser: (id) => write((s) => Option.isSome(HashMap.get(s.users, id)) ? [true, removeUser(s, id)] : [false, s]),
    purgeUnverifiedUsers: ({ createdBefore, limit }) =>
      write((s) => {
        const doomed = Array.from(HashMap.values(s.users))
          .filter((user) => !user.verified && user.createdAt <= createdBefore)
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .slice(0, Math.max(0, limit))
        return [doomed.length, doomed.reduce((acc, user) => removeUser(acc, user.id), s)]
      }),
    deleteUnverifiedUsers: ({ createdBefore, emailKey, usernameKey }) =>
      write((s) => {
        const holders = [HashMap.get(s.usernames, usernameKey), HashMap.get(s.emails, emailKey)]
        const doomed = new Set(
          holders.flatMap((id) =>
            Option.toArray(Option.filter(
              Option.flatMap(id, (id) => HashMap.get(s.users, id)),
              (user) => !user.verified && user.createdAt <= createdBefore
            ))
          ).map((user) => user.id)
        )
        return [doomed.size, [...doomed].reduce(removeUser, s)]
      }),

    issueToken: (token) =>
      write((s) => {
        const previous = HashMap.get(s.liveTokens, liveKey(token.userId, token.purpose))
        const cleared = Option.isSome(previous) ? removeToken(s, previous.value) : s
        const key = tokenKey(token.purpose, token.tokenHash)
        return [undefined, {
          ...cleared,
          tokens: HashMap.set(cleared.tokens, key, token),
          liveTokens: HashMap.set(cleared.liveTokens, liveKey(token.userId, token.purpose), key)
        }]
      }),
    findToken: (purpose, tokenHash) => read((s) => HashMap.get(s.tokens, tokenKey(purpose, tokenHash))),
    consumeToken: (purpose, tokenHash) =>
      write((s) => {
        const key = tokenKey(purpose, tokenHash)
        return [HashMap.get(s.tokens, key), removeToken(s, key)]
      }),
    deleteUserTokens: (userId, purpose) =>
      write((s) => [
        undefined,
        Option.match(HashMap.get(s.liveTokens, liveKey(userId, purpose)), {
          onNone: () => s,
          onSome: (key) => removeToken(s, key)
        })
      ]),

    insertSession: (session) =>
      write((s) => [undefined, { ...s, sessions: HashMap.set(s.sessions, session.tokenHash, session) }]),
    findSession: (tokenHash) =>
      read((s) =>
        Option.flatMap(
          HashMap.get(s.sessions, tokenHash),
          // Only the session check's fields, as the SQL stores read them: never the password hash.
          (session) =>
            Option.map(HashMap.get(s.users, session.userId), ({ createdAt, email, id, username, verified }) => ({
              session,
              user: { id, username, email, verified, createdAt }
            }))
        )
      ),
    renewSession: ({ expiresAt, lastUsedAt, tokenHash }) =>
      write((s) => [undefined, {
        ...s,
        sessions: HashMap.modify(s.sessions, tokenHash, (session) => ({ ...session, expiresAt, lastUsedAt }))
      }]),
    deleteSession: (tokenHash) =>
      write((s) => {
        const [removed, next] = dropSessions(s, Option.toArray(HashMap.get(s.sessions, tokenHash)))
        return [removed > 0, next]
      }),
    deleteUserSessions: (userId) => write((s) => removeUserSessions(s, userId)),

    purgeExpired: ({ limit, now }) =>
      write((s) => {
        const sessions = Array.from(HashMap.values(HashMap.filter(s.sessions, (x) => x.expiresAt <= now)))
          .slice(0, limit)
        const tokens = Array.from(HashMap.keys(HashMap.filter(s.tokens, (x) => x.expiresAt <= now)))
          .slice(0, limit - sessions.length)
        const next = tokens.reduce(removeToken, dropSessions(s, sessions)[1])
        return [sessions.length + tokens.length, next]
      }),

    withTransaction,

    insertSessionIfPasswordVersion: (session, passwordVersion) =>
      write((s) => {
        const user = HashMap.get(s.users, session.userId)
        if (Option.isNone(user) || user.value.passwordVersion !== passwordVersion) return [false, s]
        return [true, { ...s, sessions: HashMap.set(s.sessions, session.tokenHash, session) }]
      }),

    // session management
    listUserSessions: (userId) => read((s) => userSessions(s, userId)),
    deleteUserSession: (userId, sessionId) =>
      write((s) => {
        const [removed, next] = dropSessions(s, userSessions(s, userId).filter((x) => x.id === sessionId))
        return [removed > 0, next]
      }),
    deleteOtherUserSessions: (userId, keepTokenHash) =>
      write((s) => dropSessions(s, userSessions(s, userId).filter((x) => x.tokenHash !== keepTokenHash))),
    trimUserSessions: (userId, keep) =>
      write((s) => {
        const sessions = userSessions(s, userId)
        return dropSessions(s, sessions.slice(0, Math.max(0, sessions.length - keep)))
      })
  })

  const outbox = OutboxStore.of({
    enqueueEmail: (email) =>
      write((s) => [undefined, {
        ...s,
        outbox: HashMap.set(s.outbox, email.id, { record: email, claimedBy: undefined, leaseUntil: 0 })
      }]),
    claimEmails: ({ leaseMs, limit, now, workerId }) =>
      write((s) => {
        const due = Array.from(HashMap.values(s.outbox))
          .filter((row) => row.record.nextAttemptAt <= now && (row.claimedBy === undefined || row.leaseUntil <= now))
          .sort(byKey((row) => `${String(row.record.nextAttemptAt).padStart(16, "0")}:${row.record.id}`))
          .slice(0, Math.max(0, limit))
        const outbox = due.reduce(
          (acc, row) => HashMap.set(acc, row.record.id, { ...row, claimedBy: workerId, leaseUntil: now + leaseMs }),
          s.outbox
        )
        return [due.map((row) => row.record), { ...s, outbox }]
      }),
    completeEmail: ({ id, workerId }) => write((s) => removeClaimed(s, id, workerId)),
    retryEmail: ({ attempts, id, nextAttemptAt, workerId }) =>
      write((s) =>
        Option.match(claimedRow(s, id, workerId), {
          onNone: () => [false, s],
          onSome: (row) => [true, {
            ...s,
            outbox: HashMap.set(s.outbox, id, {
              record: { ...row.record, attempts, nextAttemptAt },
              claimedBy: undefined,
              leaseUntil: 0
            })
          }]
        })
      ),
    dropEmail: ({ id, workerId }) => write((s) => removeClaimed(s, id, workerId)),
    summarizeEmails: ({ now }) =>
      read((s) => {
        const rows = Array.from(HashMap.values(s.outbox))
        const live = (row: OutboxRow) => row.claimedBy !== undefined && row.leaseUntil > now
        return {
          waiting: rows.length,
          due: rows.filter((row) => row.record.nextAttemptAt <= now && !live(row)).length,
          claimed: rows.filter(live).length,
          failed: rows.filter((row) => row.record.attempts > 0).length,
          oldestCreatedAt: rows.length === 0
            ? Option.none()
            : Option.some(Math.min(...rows.map((row) => row.record.createdAt)))
        }
      }),
    retryEmailsNow: ({ id, now }) =>
      write((s) => {
        const retried = Array.from(HashMap.values(s.outbox)).filter((row) =>
          (id === undefined || row.record.id === id) && row.record.nextAttemptAt > now &&
          !(row.claimedBy !== undefined && row.leaseUntil > now)
        )
        const outbox = retried.reduce(
          (acc, row) => HashMap.set(acc, row.record.id, { ...row, record: { ...row.record, nextAttemptAt: now } }),
          s.outbox
        )
        return [retried.length, { ...s, outbox }]
      })
  })

  const counters = CounterStore.of({
    incrementCounter: ({ key, now, windowMs }) =>
      write((s) => {
        const current = HashMap.get(s.counters, key)
        const next: CounterRecord = Option.isSome(current) && current.value.windowStart > now - windowMs
          ? { count: current.value.count + 1, windowStart: current.value.windowStart, updatedAt: now }
          : { count: 1, windowStart: now, updatedAt: now }
        return [next.count, { ...s, counters: HashMap.set(s.counters, key, next) }]
      }),
    getCounter: (key) => read((s) => HashMap.get(s.counters, key)),
    deleteCounter: (key) => write((s) => [undefined, { ...s, counters: HashMap.remove(s.counters, key) }]),
    releaseCounter: ({ key, since }) =>
      write((s) => [
        undefined,
        {
          ...s,
          counters: HashMap.modify(s.counters, key, (counter) =>
            counter.count > 0 && counter.windowStart <= since ? { ...counter, count: counter.count - 1 } : counter)
        }
      ]),
    purgeCounters: ({ limit, olderThan }) =>
      write((s) => {
        const doomed = Array.from(HashMap.keys(HashMap.filter(s.counters, (c) => c.updatedAt <= olderThan)))
          .slice(0, Math.max(0, limit))
        return [doomed.length, { ...s, counters: HashMap.removeMany(s.counters, doomed) }]
      })
  })

  const factors = FactorStore.of({
    findTotp: (userId) => read((s) => HashMap.get(s.totp, userId)),
    putPendingTotp: ({ createdAt, secret, userId }) =>
      write((s) =>
        Option.exists(HashMap.get(s.totp, userId), (factor) => factor.active)
          ? [false, s]
          : [true, {
            ...s,
            totp: HashMap.set(s.totp, userId, {
              userId,
              secret,
              active: false,
              lastStep: 0,
              createdAt,
              activatedAt: Option.none()
            })
          }]
      ),
    activateTotp: ({ now, secret, step, userId }) =>
      write((s) =>
        Option.match(
          Option.filter(HashMap.get(s.totp, userId), (factor) => !factor.active && factor.secret === secret),
          {
            onNone: () => [false, s],
            onSome: (factor) => [true, {
              ...s,
              totp: HashMap.set(s.totp, userId, {
                ...factor,
                active: true,
                lastStep: step,
                activatedAt: Option.some(now)
              })
            }]
          }
        )
      ),
    acceptTotpStep: ({ step, userId }) =>
      write((s) =>
        Option.match(
          Option.filter(HashMap.get(s.totp, userId), (factor) => factor.active && factor.lastStep < step),
          {
            onNone: () => [false, s],
            onSome: (factor) => [true, { ...s, totp: HashMap.set(s.totp, userId, { ...factor, lastStep: step }) }]
          }
        )
      ),
    deleteTotp: (userId) => write((s) => [HashMap.has(s.totp, userId), { ...s, totp: HashMap.remove(s.totp, userId) }]),

    replaceRecoveryCodes: ({ codeHashes, userId }) =>
      write((s) => {
        const others = HashMap.filter(s.recoveryCodes, (owner) => owner !== userId)
        const recoveryCodes = codeHashes.reduce(
          (acc, hash) => HashMap.set(acc, recoveryKey(userId, hash), userId),
          others
        )
        return [undefined, { ...s, recoveryCodes }]
      }),
    consumeRecoveryCode: (userId, codeHash) =>
      write((s) => {
        const key = recoveryKey(userId, codeHash)
        return [HashMap.has(s.recoveryCodes, key), { ...s, recoveryCodes: HashMap.remove(s.recoveryCodes, key) }]
      }),
    countRecoveryCodes: (userId) =>
      read((s) => HashMap.size(HashMap.filter(s.recoveryCodes, (owner) => owner === userId))),
    deleteRecoveryCodes: (userId) =>
      write((s) => [undefined, { ...s, recoveryCodes: HashMap.filter(s.recoveryCodes, (owner) => owner !== userId) }]),

    insertLoginChallenge: (challenge) =>
      write((s) => [undefined, {
        ...s,
        loginChallenges: HashMap.set(s.loginChallenges, challenge.tokenHash, challenge)
      }]),
    findLoginChallenge: (tokenHash) => read((s) => HashMap.get(s.loginChallenges, tokenHash)),
    consumeLoginChallenge: (tokenHash) =>
      write((s) => [
        HashMap.get(s.loginChallenges, tokenHash),
        { ...s, loginChallenges: HashMap.remove(s.loginChallenges, tokenHash) }
      ]),

    insertPasskey: (passkey) =>
      write((s) =>
        HashMap.has(s.passkeys, passkey.credentialId)
          ? [false, s]
          : [true, { ...s, passkeys: HashMap.set(s.passkeys, passkey.credentialId, passkey) }]
      ),
    findPasskey: (credentialId) => read((s) => HashMap.get(s.passkeys, credentialId)),
    listPasskeys: (userId) =>
      read((s) =>
        Array.from(HashMap.values(s.passkeys))
          .filter((passkey) => passkey.userId === userId)
          .sort((a, b) =>
            a.createdAt - b.createdAt ||
            (a.credentialId < b.credentialId ? -1 : a.credentialId > b.credentialId ? 1 : 0)
          )
      ),
    recordPasskeyUse: ({ backedUp, counter, credentialId, lastUsedAt }) =>
      write((s) =>
        Option.match(
          Option.filter(
            HashMap.get(s.passkeys, credentialId),
            (passkey) => counter > passkey.counter || (counter === 0 && passkey.counter === 0)
          ),
          {
            onNone: () => [false, s],
            onSome: (passkey) => [true, {
              ...s,
              passkeys: HashMap.set(s.passkeys, credentialId, {
                ...passkey,
                counter,
                backedUp,
                lastUsedAt: Option.some(lastUsedAt)
              })
            }]
          }
        )
      ),
    renamePasskey: (userId, credentialId, name) =>
      write((s) =>
        Option.match(Option.filter(HashMap.get(s.passkeys, credentialId), (passkey) => passkey.userId === userId), {
          onNone: () => [false, s],
          onSome: (passkey) => [true, { ...s, passkeys: HashMap.set(s.passkeys, credentialId, { ...passkey, name }) }]
        })
      ),
    deletePasskey: (userId, credentialId) =>
      write((s) =>
        Option.exists(HashMap.get(s.passkeys, credentialId), (passkey) => passkey.userId === userId)
          ? [true, { ...s, passkeys: HashMap.remove(s.passkeys, credentialId) }]
          : [false, s]
      ),

    insertWebAuthnChallenge: (challenge) =>
      write((s) => [undefined, {
        ...s,
        webAuthnChallenges: HashMap.set(
          s.webAuthnChallenges,
          challengeKey(challenge.ceremony, challenge.tokenHash),
          challenge
        )
      }]),
    consumeWebAuthnChallenge: (ceremony, tokenHash) =>
      write((s) => {
        const key = challengeKey(ceremony, tokenHash)
        return [
          HashMap.get(s.webAuthnChallenges, key),
          { ...s, webAuthnChallenges: HashMap.remove(s.webAuthnChallenges, key) }
        ]
      }),

    purgeExpiredChallenges: ({ limit, now }) =>
      write((s) => {
        const logins = Array.from(HashMap.keys(HashMap.filter(s.loginChallenges, (x) => x.expiresAt <= now)))
          .slice(0, Math.max(0, limit))
        const ceremonies = Array.from(HashMap.keys(HashMap.filter(s.webAuthnChallenges, (x) => x.expiresAt <= now)))
          .slice(0, Math.max(0, limit - logins.length))
        return [logins.length + ceremonies.length, {
          ...s,
          loginChallenges: HashMap.removeMany(s.loginChallenges, logins),
          webAuthnChallenges: HashMap.removeMany(s.webAuthnChallenges, ceremonies)
        }]
      })
  })

  const devices = SessionDeviceStore.of({
    insertSessionDevice: (record) =>
      Effect.flatten(write((s): readonly [Effect.Effect<void, StoreError>, State] => {
        // As the SQL stores' foreign key: a record needs its session.
        const exists = Option.isSome(HashMap.findFirst(s.sessions, (session) => session.id === record.sessionId))
        if (!exists) {
          return [Effect.fail(new StoreError({ operation: "insertSessionDevice", reason: "no such session" })), s]
        }
        return [Effect.void, { ...s, sessionDevices: HashMap.set(s.sessionDevices, record.sessionId, record) }]
      })),
    findSessionDevice: (sessionId) => read((s) => HashMap.get(s.sessionDevices, sessionId)),
    listUserSessionDevices: (userId) =>
      read((s) =>
        userSessions(s, userId).flatMap((session) => Option.toArray(HashMap.get(s.sessionDevices, session.id)))
      )
  })

  const emailChanges = EmailChangeStore.of({
    putPendingChange: (change) =>
      write((s) => [undefined, { ...s, emailChanges: HashMap.set(s.emailChanges, change.userId, change) }]),
    findPendingChange: (userId) => read((s) => HashMap.get(s.emailChanges, userId)),
    consumePendingChange: (tokenHash) =>
      write((s) =>
        Option.match(HashMap.findFirst(s.emailChanges, (change) => change.tokenHash === tokenHash), {
          onNone: () => [Option.none(), s],
          onSome: (
            [userId, change]
          ) => [Option.some(change), { ...s, emailChanges: HashMap.remove(s.emailChanges, userId) }]
        })
      ),
    deletePendingChange: (userId) =>
      write((
        s
      ) => [HashMap.has(s.emailChanges, userId), { ...s, emailChanges: HashMap.remove(s.emailChanges, userId) }]),
    moveEmail: ({ email, emailKey, expectedPasswordVersion, userId }) =>
      statement(
        Effect.flatten(Ref.modify(state, (s): readonly [Effect.Effect<boolean, EmailTaken>, State] => {
          const user = Option.filter(
            HashMap.get(s.users, userId),
            (found) => expectedPasswordVersion === undefined || found.passwordVersion === expectedPasswordVersion
          )
          if (Option.isNone(user)) return [Effect.succeed(false), s]
          const holder = HashMap.get(s.emails, emailKey)
          if (Option.isSome(holder) && holder.value !== userId) return [Effect.fail(new EmailTaken()), s]
          return [Effect.succeed(true), {
            ...s,
            users: HashMap.set(s.users, userId, { ...user.value, email, emailKey }),
            emails: HashMap.set(HashMap.remove(s.emails, user.value.emailKey), emailKey, userId)
          }]
        }))
      ),
    insertRevertToken: (record) =>
      write((s) => [undefined, { ...s, emailReverts: HashMap.set(s.emailReverts, record.tokenHash, record) }]),
    consumeRevertToken: (tokenHash) =>
      write((s) => [
        HashMap.get(s.emailReverts, tokenHash),
        { ...s, emailReverts: HashMap.remove(s.emailReverts, tokenHash) }
      ]),
    deleteRevertTokens: ({ createdFrom, userId }) =>
      write((s) => {
        const kept = HashMap.filter(s.emailReverts, (x) => x.userId !== userId || x.createdAt < createdFrom)
        return [HashMap.size(s.emailReverts) - HashMap.size(kept), { ...s, emailReverts: kept }]
      }),
    purgeExpiredEmailChanges: ({ limit, now }) =>
      write((s) => {
        const changes = Array.from(HashMap.keys(HashMap.filter(s.emailChanges, (x) => x.expiresAt <= now)))
          .slice(0, Math.max(0, limit))
        const reverts = Array.from(HashMap.keys(HashMap.filter(s.emailReverts, (x) => x.expiresAt <= now)))
          .slice(0, Math.max(0, limit - changes.length))
        return [changes.length + reverts.length, {
          ...s,
          emailChanges: HashMap.removeMany(s.emailChanges, changes),
          emailReverts: HashMap.removeMany(s.emailReverts, reverts)
        }]
      })
  })

  const snapshot = Effect.map(Ref.get(committed), (s): Snapshot => ({
    users: Array.from(HashMap.values(s.users)).sort(byKey((user) => user.id)),
    sessions: Array.from(HashMap.values(s.sessions)).sort(byKey((session) => session.tokenHash)),
    tokens: Array.from(HashMap.values(s.tokens)).sort(byKey((token) => tokenKey(token.purpose, token.tokenHash))),
    outbox: Array.from(HashMap.values(s.outbox), (row) => row.record).sort(byKey((record) => record.id))
  }))

  const events = MemoryEvents.make(
    (f) => read((s) => f(s.events)),
    (f) =>
      write((s) => {
        const [result, events] = f(s.events)
        return [result, { ...s, events }]
      })
  )

  const admin = MemoryAccountAdmin.make<State>({ read, write })

  return {
    store,
    counters,
    outbox,
    factors,
    devices,
    events,
    emailChanges,
    admin,
    inspector: MemoryUserStore.of({ snapshot })
  }
})

/**
 * A fresh, empty store (its `UserStore`, `CounterStore`, `OutboxStore`, `FactorStore`, `SessionDeviceStore`,
 * `SecurityEventStore`, `EmailChangeStore`, `AccountAdminStore`), with its inspector.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Ports.Tags | MemoryUserStore> = Layer.effectContext(
  Effect.map(make, (ports) => Context.add(Ports.context(ports), MemoryUserStore, ports.inspector))
)
