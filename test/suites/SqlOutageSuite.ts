/**
 * What a running SQL store does when its database goes away: every operation fails with a `StoreError` in bounded
 * time, a transaction cut in the middle leaves nothing behind, and the store works again once the database is
 * back. Run against PostgreSQL and MariaDB through `tcpProxy`.
 */
import { assert, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, type Layer, Option } from "effect"
import type { CounterStore } from "../../src/CounterStore.js"
import type { StoreError } from "../../src/Errors.js"
import type { OutboxStore } from "../../src/OutboxStore.js"
import { SessionId, UserId } from "../../src/User.js"
import { EmailKey, TokenHash, UsernameKey, UserStore } from "../../src/UserStore.js"
import { userRecord } from "../support/storeRecords.js"
import { type Proxy, tcpProxy } from "../support/tcpProxy.js"

const timed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const started = performance.now()
    const exit = yield* Effect.exit(effect)
    return { exit, millis: performance.now() - started }
  })

export const outageTests = (
  name: string,
  targetPort: number,
  store: (proxyPort: number) => Layer.Layer<UserStore | CounterStore | OutboxStore, StoreError>
) =>
  it.live(
    `${name}: with the database gone, every operation fails with StoreError in bounded time`,
    () =>
      Effect.gen(function*() {
        const proxy: Proxy = yield* tcpProxy(targetPort)
        yield* Effect.gen(function*() {
          const s = yield* UserStore
          const user = userRecord()
          yield* s.insertUser(user)
          const id = UserId.make("nobody")
          const session = {
            id: SessionId.make("s"),
            tokenHash: TokenHash.make("h"),
            userId: user.id,
            createdAt: 1,
            expiresAt: 2,
            lastUsedAt: 1
          }
          const token = {
            tokenHash: TokenHash.make("t"),
            purpose: "verify-email" as const,
            userId: user.id,
            createdAt: 1,
            expiresAt: 2
          }
          const operations: ReadonlyArray<readonly [string, Effect.Effect<unknown, { readonly _tag: string }>]> = [
            ["insertUser", s.insertUser(userRecord())],
            ["findUserById", s.findUserById(id)],
            ["findUserByUsername", s.findUserByUsername(UsernameKey.make("x"))],
            ["findUserByEmail", s.findUserByEmail(EmailKey.make("x"))],
            ["markVerified", s.markVerified(id)],
            ["updatePassword", s.updatePassword({ userId: id, passwordHash: "x" })],
            ["deleteUser", s.deleteUser(id)],
            ["issueToken", s.issueToken(token)],
            ["findToken", s.findToken("verify-email", TokenHash.make("t"))],
            ["consumeToken", s.consumeToken("verify-email", TokenHash.make("t"))],
            ["deleteUserTokens", s.deleteUserTokens(id, "verify-email")],
            ["insertSession", s.insertSession(session)],
            ["findSession", s.findSession(TokenHash.make("h"))],
            ["renewSession", s.renewSession({ tokenHash: TokenHash.make("h"), expiresAt: 3, lastUsedAt: 2 })],
            ["deleteSession", s.deleteSession(TokenHash.make("h"))],
            ["deleteUserSessions", s.deleteUserSessions(id)],
            ["purgeExpired", s.purgeExpired({ now: 0, limit: 10 })],
            ["purgeUnverifiedUsers", s.purgeUnverifiedUsers({ createdBefore: 0, limit: 10 })],
            [
              "deleteUnverifiedUsers",
              s.deleteUnverifiedUsers({
                usernameKey: UsernameKey.make("x"),
                emailKey: EmailKey.make("x"),
                createdBefore: 0
              })
            ],
            ["withTransaction", s.withTransaction(s.findUserById(id))]
          ]
          for (const mode of ["refuse", "hang"] as const) {
            yield* proxy.setMode(mode)
            let slowest = 0
            for (const [operation, effect] of operations) {
              const { exit, millis } = yield* timed(effect)
              slowest = Math.max(slowest, millis)
              assert.isTrue(
                Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), (e) => e._tag === "StoreError"),
                `${operation} (${mode}) should fail with StoreError, got ${String(exit)}`
              )
              // The layer's connect timeout is 1 second; allow for a slow machine.
              assert.isBelow(millis, 3_000, `${operation} (${mode}) took ${millis} ms`)
            }
            const state = mode === "refuse" ? "down" : "not answering"
            console.log(`${name}, database ${state}: slowest failure ${slowest.toFixed(0)} ms`)
          }

          // A transaction cut half-way leaves nothing behind, and the store recovers when the database is back.
          yield* proxy.setMode("forward")
          const halfway = userRecord()
          const cut = yield* Effect.exit(s.withTransaction(Effect.gen(function*() {
            yield* s.insertUser(halfway)
            yield* proxy.setMode("refuse")
            yield* s.insertSession({ ...session, tokenHash: TokenHash.make("cut"), userId: halfway.id })
          })))
          assert.isTrue(cut._tag === "Failure")
          yield* proxy.setMode("forward")
          const found = yield* s.findUserById(halfway.id).pipe(
            Effect.retry({ times: 5 }),
            Effect.timeout(Duration.seconds(10))
          )
          assert.isTrue(Option.isNone(found), "the user inserted before the cut was rolled back")
          assert.isTrue(Option.isSome(yield* s.findUserById(user.id)))
        }).pipe(Effect.provide(store(proxy.port)))
      }).pipe(Effect.scoped),
    { timeout: 120_000 }
  )
