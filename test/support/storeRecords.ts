/**
 * Store records for the tests that talk to a store's port directly (the SQL suite, the outage suite, the session
 * cache and fast paths, the purge schedule): rows with unique ids, so tests can share one database.
 */
import { SessionId, UserId } from "../../src/User.js"
import { EmailKey, type SessionUser, TokenHash, UsernameKey, type UserRecord } from "../../src/UserStore.js"

let counter = 0
/** A value no other call in this process returns, so rows never collide within a shared database. */
export const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`

/** A valid user row with fresh ids and keys. */
export const userRecord = (overrides: Partial<UserRecord> = {}): UserRecord => {
  const name = unique("user")
  return {
    id: UserId.make(unique("id")),
    username: name,
    usernameKey: UsernameKey.make(name.toLowerCase()),
    email: `${name}@example.com`,
    emailKey: EmailKey.make(`${name}@example.com`.toLowerCase()),
    passwordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
    passwordVersion: 1,
    verified: false,
    createdAt: 1_700_000_000_123,
    ...overrides
  }
}

/** What `findSession` returns of a user: the session check's fields, never the password hash. */
export const sessionUser = ({ createdAt, email, id, username, verified }: UserRecord): SessionUser => ({
  id,
  username,
  email,
  verified,
  createdAt
})

/** A valid session row of `userId` with fresh ids. */
export const session = (userId: UserId, overrides: { expiresAt?: number; createdAt?: number } = {}) => ({
  id: SessionId.make(unique("sid")),
  tokenHash: TokenHash.make(unique("sh")),
  userId,
  createdAt: overrides.createdAt ?? 1_700_000_000_001,
  expiresAt: overrides.expiresAt ?? 1_800_000_000_999,
  lastUsedAt: overrides.createdAt ?? 1_700_000_000_001
})
