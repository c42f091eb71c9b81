/**
 * The account service's sessions: a new one within the per-user cap, the check of a presented token (the one every
 * request makes, `validateSession`), and the synchronous shortcut for stores that read sessions at once.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type AccountLocked, InvalidCredentials, InvalidSession, type StoreError } from "../Errors.js"
import type { SessionDeviceRecord, SessionDeviceStoreService } from "../SessionDeviceStore.js"
import { type Session, SessionId, type SessionSummary, User, type UserId, type ValidatedSession } from "../User.js"
import type { SessionUser, SessionWithUser, TokenHash, UserStoreService } from "../UserStore.js"
import type * as ClientDetails from "./clientDetails.js"
import * as DeviceLabel from "./deviceLabel.js"
import type { SecretInput } from "./secrets.js"
import * as SessionChecks from "./sessionCheck.js"
import * as SessionPolicy from "./sessionPolicy.js"
import * as SyncLookup from "./syncLookup.js"
import * as Tokens from "./tokens.js"

export interface Deps {
  readonly store: UserStoreService
  readonly tokens: Tokens.Tokens
  readonly policy: SessionPolicy.Policy
  /** Where client details are kept; without it they are not. */
  readonly devices: Option.Option<SessionDeviceStoreService>
  /** Run after a new session's insert, in its transaction: a failure rolls the session back (see accountLocks.ts). */
  readonly guard: Option.Option<(userId: UserId) => Effect.Effect<void, AccountLocked | StoreError>>
}

// The record's fields are typed already; re-validating them costs a tenth of a session check (docs/performance.md).
const toUser = (record: SessionUser): User =>
  new User({
    id: record.id,
    username: record.username,
    email: record.email,
    verified: record.verified,
    createdAt: new Date(record.createdAt)
  }, true)

const succeedFalse = Effect.succeed(false)

/** `verifySession`'s answer to a failed check: `false` for an invalid session, a store failure as it is. */
export const falseOnInvalid = (error: InvalidSession | StoreError): Effect.Effect<boolean, StoreError> =>
  error._tag === "InvalidSession" ? succeedFalse : Effect.fail(error)

export const userOf = (validated: ValidatedSession) => validated.user

export const make = ({ devices, guard, policy, store, tokens }: Deps) => {
  // With a cap, the oldest sessions make room before the insert, in one transaction: the new session is never the
  // one evicted, and an insert that fails undoes the eviction. Concurrent logins of one user can still overshoot
  // the cap briefly; the next login trims it. The client details join the session's transaction, so a session never
  // exists without the details it was created with.
  const { maxPerUser } = policy
  // One transaction when more than the insert runs (the cap's trim, the device record, the lock guard, which runs
  // after the insert so that a lock committing meanwhile still refuses the session).
  const withinCap = <A, E>(userId: UserId, insert: Effect.Effect<A, E>, alone: boolean) => {
    const trimmed = maxPerUser === undefined
      ? insert
      : Effect.zipRight(store.trimUserSessions(userId, maxPerUser - 1), insert)
    return Option.match(guard, {
      onNone: () => maxPerUser === undefined && alone ? trimmed : store.withTransaction(trimmed),
      onSome: (check) => store.withTransaction(Effect.zipLeft(trimmed, check(userId)))
    })
  }

  const deviceRecord = (sessionId: SessionId, client: Option.Option<ClientDetails.Stored>) =>
    Option.isSome(devices) && Option.isSome(client)
      ? Option.some(
        devices.value.insertSessionDevice({
          sessionId,
          userAgent: client.value.userAgent,
          address: client.value.address
        })
      )
      : Option.none()

  // With `passwordVersion`, the session is created only while the password is still the one just verified; a
  // refused insert fails inside the cap's transaction, so it evicts nothing either.
  const newSession = Effect.fnUntraced(function*(
    userId: UserId,
    passwordVersion?: number,
    client: Option.Option<ClientDetails.Stored> = Option.none()
  ) {
    const { token, tokenHash } = yield* tokens.issue
    const id = SessionId.make(yield* tokens.newId)
    const now = yield* Clock.currentTimeMillis
    const expiresAt = SessionPolicy.expiryFrom(policy, now, now)
    const session = { id, tokenHash, userId, createdAt: now, expiresAt, lastUsedAt: now }
    const insert = passwordVersion === undefined
      ? store.insertSession(session)
      : Effect.flatMap(
        store.insertSessionIfPasswordVersion(session, passwordVersion),
        (inserted) => inserted ? Effect.void : Effect.fail(new InvalidCredentials())
      )
    const device = deviceRecord(id, client)
    yield* Option.isNone(device)
      ? withinCap(userId, insert, true)
      : withinCap(userId, Effect.zipRight(insert, device.value), false)
    return { id, token, expiresAt: new Date(expiresAt) } satisfies Session
  })

  // The session check runs on every request, so it is written with plain combinators: a handful of steps for the
  // fiber, no generator, nothing allocated that could be made once here (docs/performance.md).
  const unknownSession = () => new InvalidSession({ reason: "unknown" })
  // Looks the session up and judges its expiry; an expired one is deleted. `onLive` gets it while it is alive.
  const liveSession = <A, E>(
    sessionToken: SecretInput,
    onLive: (found: SessionWithUser, tokenHash: TokenHash, now: number) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | InvalidSession | StoreError> =>
    Effect.suspend(() => {
      const tokenHash = tokens.hashOf(sessionToken)
      if (tokenHash === undefined) return Effect.fail(unknownSession())
      return Effect.flatMap(store.findSession(tokenHash), (found) =>
        Option.isNone(found)
          ? Effect.fail(unknownSession())
          : Effect.clockWith((clock): Effect.Effect<A, E | InvalidSession | StoreError> => {
            const now = clock.unsafeCurrentTimeMillis()
            return now >= SessionPolicy.deadline(policy, found.value.session)
              ? Effect.zipRight(
                store.deleteSession(tokenHash),
                Effect.fail(new InvalidSession({ reason: "expired" }))
              )
              : onLive(found.value, tokenHash, now)
          }))
    })

  const checked = (found: SessionWithUser, tokenHash: TokenHash, now: number) =>
    Effect.succeed({ tokenHash, now, ...found })
  /** The live session `sessionToken` names, its hash and the time it was judged at; nothing written. */
  const checkSession = (sessionToken: SecretInput) => liveSession(sessionToken, checked)

  // The user as stored, for the operations that need more than a session check reads (the password hash).
  const fullUser = (user: SessionUser) =>
    Effect.flatMap(
      store.findUserById(user.id),
      (found) => Option.isNone(found) ? Effect.fail(unknownSession()) : Effect.succeed(found.value)
    )

  // What one use of a live session returns, and whether it must write (renewal, last use); shared by
  // `validateSession` and the synchronous path of `sessionChecker`.
  const use = ({ session, user }: SessionWithUser, now: number) => {
    const { expiresAt, renewed, write } = SessionPolicy.use(policy, session, now)
    const validated: ValidatedSession = {
      user: toUser(user),
      session: { id: session.id, createdAt: new Date(session.createdAt), expiresAt: new Date(expiresAt), renewed }
    }
    return { validated, expiresAt, write }
  }
  // Functions passed per call are built once here, not per request.
  const renewing = (found: SessionWithUser, tokenHash: TokenHash, now: number) => {
    const { expiresAt, validated, write } = use(found, now)
    return write
      ? Effect.as(store.renewSession({ tokenHash, expiresAt, lastUsedAt: now }), validated)
      : Effect.succeed(validated)
  }
  const validate = (sessionToken: SecretInput) => liveSession(sessionToken, renewing)
  // With a store that reads sessions synchronously (SQLite), the common answers (a live session with nothing to
  // write, an unknown or malformed token) are computed in one step, in a fiber and in `sessionChecker` without
  // one; anything else (an expiry to delete, a write, a failing read) runs `validate`.
  const sync = SyncLookup.of(store.findSession)
  const shortcut: SessionChecks.Shortcut | undefined = sync === undefined ? undefined : (sessionToken, now) => {
    const tokenHash = tokens.hashOf(sessionToken)
    if (tokenHash === undefined) return { ok: false, error: unknownSession() }
    const found = sync.lookup(tokenHash, now)
    if (found === SyncLookup.unanswered) return undefined
    if (found === undefined) return { ok: false, error: unknownSession() }
    if (now >= SessionPolicy.deadline(policy, found.session)) return undefined
    const { validated, write } = use(found, now)
    return write ? undefined : { ok: true, value: validated }
  }

  // Whether one of the user's sessions went. An id the library cannot have issued is no session's: it never reaches
  // the store (whose columns may not even hold it). Scoped to the caller in the store itself: another user's id
  // reads like an unknown one.
  const revoke = (userId: UserId, sessionId: string) =>
    Tokens.isId(sessionId) ? store.deleteUserSession(userId, SessionId.make(sessionId)) : succeedFalse

  // The client details a session was created with, as the next session on the same client gets them.
  const clientOfSession = (sessionId: SessionId): Effect.Effect<Option.Option<ClientDetails.Stored>, StoreError> =>
    Option.isNone(devices)
      ? Effect.succeedNone
      : Effect.map(
        devices.value.findSessionDevice(sessionId),
        Option.map(({ address, userAgent }): ClientDetails.Stored => ({ userAgent, address }))
      )

  // The caller's client details, by session id; none without the port.
  const userDevices = (userId: UserId): Effect.Effect<ReadonlyMap<string, SessionDeviceRecord>, StoreError> =>
    Option.isNone(devices)
      ? Effect.succeed(new Map())
      : Effect.map(
        devices.value.listUserSessionDevices(userId),
        (records) => new Map(records.map((record) => [record.sessionId, record]))
      )

  // The caller's sessions as `listSessions` shows them, `current` the one `tokenHash` names.
  const summaries = Effect.fnUntraced(function*(userId: UserId, now: number, tokenHash: TokenHash) {
    const all = yield* store.listUserSessions(userId)
    const details = yield* userDevices(userId)
    // Expired rows wait for `purgeExpired`; they are not sessions any more.
    const live = all.flatMap((session) => {
      const expiresAt = SessionPolicy.deadline(policy, session)
      if (now >= expiresAt) return []
      const client = Option.fromNullable(details.get(session.id))
      const userAgent = Option.flatMap(client, (found) => found.userAgent)
      const address = Option.flatMap(client, (found) => found.address)
      return [{ session, expiresAt, userAgent, address }]
    })
    const label = yield* DeviceLabel.labeller(live.map(({ userAgent }) => userAgent))
    return live.map(({ address, expiresAt, session, userAgent }): SessionSummary => ({
      id: session.id,
      createdAt: new Date(session.createdAt),
      lastUsedAt: new Date(session.lastUsedAt),
      expiresAt: new Date(expiresAt),
      current: session.tokenHash === tokenHash,
      device: { label: label(userAgent), userAgent, address }
    }))
  })

  return {
    newSession,
    checkSession,
    fullUser,
    /** `validateSession` without its span: the shortcut first where it applies. */
    validate: sync === undefined || shortcut === undefined
      ? validate
      : SessionChecks.shortcutFirst(validate, shortcut, sync.appliesIn),
    /** To register for the traced `validateSession` (see `SessionChecks.registerShortcut`). */
    shortcut,
    revoke,
    summaries,
    clientOfSession
  }
}
