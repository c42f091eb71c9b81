/**
 * Outbox workers racing on each SQL backend: three workers drain 20 queued messages at once, through one shared
 * recording sender, and every message is sent exactly once (atomic claims: `SKIP LOCKED` on PostgreSQL and
 * MariaDB, one `UPDATE … RETURNING` on SQLite). The SQLite database is a file, as an app would use. And a failed
 * delivery is rescheduled on the default (jittered) retry schedule and goes out once the sender recovers.
 * Each backend's file calls both, inside the describe blocks "outbox retries on SQL stores" and "outbox workers on
 * SQL stores".
 */
import { assert, it } from "@effect/vitest"
import { Effect, type Layer, TestClock } from "effect"
import type { CounterStore } from "../../src/CounterStore.js"
import type { OutboxStore } from "../../src/OutboxStore.js"
import * as OutboxWorker from "../../src/OutboxWorker.js"
import * as RecordingEmailSender from "../../src/RecordingEmailSender.js"
import { UserHarborOutbox } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import type { UserStore } from "../../src/UserStore.js"

/** Three workers drain 20 queued messages at once; each is sent exactly once. */
export const outboxRace = <E>(name: string, store: () => Layer.Layer<UserStore | CounterStore | OutboxStore, E>) =>
  it.live(
    `${name}: three workers draining at once send each of 20 messages exactly once`,
    () =>
      Effect.gen(function*() {
        const harbor = yield* UserHarborOutbox
        for (let i = 0; i < 20; i++) {
          yield* harbor.register({
            username: `racer${i}`,
            email: `racer${i}@example.com`,
            password: "Racing-Secret-42"
          })
        }
        const workers = yield* Effect.all([1, 2, 3].map(() => OutboxWorker.make({ batchSize: 2 })))
        yield* Effect.all(workers.map((worker) => worker.drain), { concurrency: "unbounded" })
        const messages = yield* Effect.flatMap(RecordingEmailSender.RecordingEmailSender, (r) => r.messages)
        const addresses = messages.map((message) => message.to.email).sort()
        assert.deepStrictEqual(addresses, Array.from({ length: 20 }, (_, i) => `racer${i}@example.com`).sort())
      }).pipe(Effect.provide(UserHarborTest.layerOutboxWithStore(store()))),
    60_000
  )

// The default schedule's jittered delays are fractional milliseconds; the stores keep whole ones.
export const outboxRetry = <E>(name: string, store: () => Layer.Layer<UserStore | CounterStore | OutboxStore, E>) =>
  it.effect(
    `${name}: a failed delivery is retried on the default schedule and delivered once`,
    () =>
      Effect.gen(function*() {
        const harbor = yield* UserHarborOutbox
        const recorder = yield* RecordingEmailSender.RecordingEmailSender
        const worker = yield* OutboxWorker.make()
        yield* recorder.setFailing(true)
        yield* harbor.register({ username: "retried", email: "retried@example.com", password: "Patient-Secret-42" })
        yield* worker.drain
        yield* recorder.setFailing(false)
        yield* worker.drain
        assert.deepStrictEqual(yield* recorder.messages, [])
        yield* TestClock.adjust("1 minute")
        yield* worker.drain
        yield* worker.drain
        assert.deepStrictEqual((yield* recorder.messages).map((message) => message.to.email), ["retried@example.com"])
      }).pipe(Effect.provide(UserHarborTest.layerOutboxWithStore(store()))),
    60_000
  )
