/**
 * A wrapper of the three store ports (`UserStore`, `CounterStore`, `OutboxStore`) for the outbox fault and
 * enumeration tests: it counts every statement (each port method but `withTransaction`) and every transaction, by
 * method name, in one list across the ports, and can fail the n-th statement with a `StoreError`, as a database
 * that drops the connection in the middle of an operation would.
 */
import { Context, Effect, Layer, Ref } from "effect"
import { CounterStore } from "../../src/CounterStore.js"
import { StoreError } from "../../src/Errors.js"
import { OutboxStore } from "../../src/OutboxStore.js"
import { PasswordHasher } from "../../src/PasswordHasher.js"
import { UserStore } from "../../src/UserStore.js"

type Ports = UserStore | CounterStore | OutboxStore

export interface Counts {
  readonly statements: ReadonlyArray<string>
  readonly transactions: number
}

export class Instruments extends Context.Tag("test/Instruments")<Instruments, {
  /** Fail the n-th statement from now on (1-based), or none with `undefined`; also resets the counts. */
  readonly failAt: (n: number | undefined) => Effect.Effect<void>
  readonly counts: Effect.Effect<Counts>
  readonly reset: Effect.Effect<void>
  /** Password hasher calls since the last reset, by kind. */
  readonly hasherCalls: Effect.Effect<ReadonlyArray<"hash" | "verify">>
}>() {}

export const injected = "injected fault"

/** Wraps the store ports and `PasswordHasher` below it; provides them again, and `Instruments`. */
export const layer: Layer.Layer<Ports | PasswordHasher | Instruments, never, Ports | PasswordHasher> = Layer
  .effectContext(Effect.gen(function*() {
    const inner = yield* UserStore
    const innerCounters = yield* CounterStore
    const innerOutbox = yield* OutboxStore
    const hasher = yield* PasswordHasher
    const statements = yield* Ref.make<ReadonlyArray<string>>([])
    const transactions = yield* Ref.make(0)
    const failAt = yield* Ref.make<number | undefined>(undefined)
    const hashes = yield* Ref.make<ReadonlyArray<"hash" | "verify">>([])

    const statement =
      (name: string) =>
      <Args extends ReadonlyArray<unknown>, A, E>(f: (...args: Args) => Effect.Effect<A, E>) =>
      (...args: Args): Effect.Effect<A, E | StoreError> =>
        Effect.flatMap(
          Ref.updateAndGet(statements, (all) => [...all, name]),
          (all) =>
            Effect.flatMap(Ref.get(failAt), (n): Effect.Effect<A, E | StoreError> =>
              n === all.length ? Effect.fail(new StoreError({ operation: injected })) : f(...args))
        )

    const store = UserStore.of({
      ...inner,
      insertUser: statement("insertUser")(inner.insertUser),
      findUserById: statement("findUserById")(inner.findUserById),
      findUserByUsername: statement("findUserByUsername")(inner.findUserByUsername),
      findUserByEmail: statement("findUserByEmail")(inner.findUserByEmail),
      markVerified: statement("markVerified")(inner.markVerified),
      updatePassword: statement("updatePassword")(inner.updatePassword),
      deleteUser: statement("deleteUser")(inner.deleteUser),
      issueToken: statement("issueToken")(inner.issueToken),
      findToken: statement("findToken")(inner.findToken),
      consumeToken: statement("consumeToken")(inner.consumeToken),
      deleteUserTokens: statement("deleteUserTokens")(inner.deleteUserTokens),
      insertSession: statement("insertSession")(inner.insertSession),
      findSession: statement("findSession")(inner.findSession),
      renewSession: statement("renewSession")(inner.renewSession),
      deleteSession: statement("deleteSession")(inner.deleteSession),
      deleteUserSessions: statement("deleteUserSessions")(inner.deleteUserSessions),
      purgeExpired: statement("purgeExpired")(inner.purgeExpired),
      withTransaction: (self) => Effect.zipRight(Ref.update(transactions, (n) => n + 1), inner.withTransaction(self)),
      listUserSessions: statement("listUserSessions")(inner.listUserSessions),
      deleteUserSession: statement("deleteUserSession")(inner.deleteUserSession),
      deleteOtherUserSessions: statement("deleteOtherUserSessions")(inner.deleteOtherUserSessions),
      trimUserSessions: statement("trimUserSessions")(inner.trimUserSessions),
      insertSessionIfPasswordVersion: statement("insertSessionIfPasswordVersion")(inner.insertSessionIfPasswordVersion)
    })
    const counters = CounterStore.of({
      incrementCounter: statement("incrementCounter")(innerCounters.incrementCounter),
      getCounter: statement("getCounter")(innerCounters.getCounter),
      deleteCounter: statement("deleteCounter")(innerCounters.deleteCounter),
      releaseCounter: statement("releaseCounter")(innerCounters.releaseCounter),
      purgeCounters: statement("purgeCounters")(innerCounters.purgeCounters)
    })
    const outbox = OutboxStore.of({
      enqueueEmail: statement("enqueueEmail")(innerOutbox.enqueueEmail),
      claimEmails: statement("claimEmails")(innerOutbox.claimEmails),
      completeEmail: statement("completeEmail")(innerOutbox.completeEmail),
      retryEmail: statement("retryEmail")(innerOutbox.retryEmail),
      dropEmail: statement("dropEmail")(innerOutbox.dropEmail),
      summarizeEmails: statement("summarizeEmails")(innerOutbox.summarizeEmails),
      retryEmailsNow: statement("retryEmailsNow")(innerOutbox.retryEmailsNow)
    })
    const countedHasher = PasswordHasher.of({
      ...hasher,
      hash: (password) =>
        Effect.zipRight(Ref.update(hashes, (all) => [...all, "hash" as const]), hasher.hash(password)),
      verify: (password, hash) =>
        Effect.zipRight(Ref.update(hashes, (all) => [...all, "verify" as const]), hasher.verify(password, hash))
    })
    const reset = Effect.all([Ref.set(statements, []), Ref.set(transactions, 0), Ref.set(hashes, [])], {
      discard: true
    })
    const instruments = Instruments.of({
      failAt: (n) => Effect.zipRight(reset, Ref.set(failAt, n)),
      counts: Effect.map(Effect.all([Ref.get(statements), Ref.get(transactions)]), ([s, t]) => ({
        statements: s,
        transactions: t
      })),
      reset,
      hasherCalls: Ref.get(hashes)
    })
    return Context.make(UserStore, store).pipe(
      Context.add(CounterStore, counters),
      Context.add(OutboxStore, outbox),
      Context.add(PasswordHasher, countedHasher),
      Context.add(Instruments, instruments)
    )
  }))
