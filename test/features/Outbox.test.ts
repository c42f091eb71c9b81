import { assert, describe, it } from "@effect/vitest"
import {
  Duration,
  Effect,
  FiberRef,
  HashSet,
  Layer,
  Logger,
  LogLevel,
  Metric,
  Option,
  Redacted,
  Ref,
  Schedule,
  TestClock
} from "effect"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as Metrics from "../../src/Metrics.js"
import { OutboxStore } from "../../src/OutboxStore.js"
import * as OutboxWorker from "../../src/OutboxWorker.js"
import * as RecordingEmailSender from "../../src/RecordingEmailSender.js"
import { UserHarbor, UserHarborOutbox } from "../../src/UserHarbor.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"

const password = "Correct-Horse-Battery-9"
const alice = { username: "alice", email: "alice@example.com", password }

const kit = (options: Parameters<typeof UserHarborTest.layerOutboxWithStore>[1] = {}) =>
  UserHarborTest.layerOutboxWithStore(MemoryUserStore.layer, options)

const outbox = Effect.map(Effect.flatMap(MemoryUserStore.MemoryUserStore, (m) => m.snapshot), (s) => s.outbox)
const sent = Effect.flatMap(RecordingEmailSender.RecordingEmailSender, (r) => r.messages)
const recorder = RecordingEmailSender.RecordingEmailSender

const counter = (metric: typeof Metrics.outboxDelivered) => Effect.map(Metric.value(metric), (state) => state.count)

// Every log line with its annotations, as text.
const captureLogs = Effect.gen(function*() {
  const lines = yield* Ref.make<ReadonlyArray<string>>([])
  const logger = Logger.make(({ annotations, message }) => {
    const text = [String(message), ...Array.from(annotations, ([k, v]) => `${k}=${String(v)}`)].join(" ")
    Effect.runSync(Ref.update(lines, (all) => [...all, text]))
  })
  return { lines: Ref.get(lines), layer: Logger.replace(Logger.defaultLogger, logger) }
})

describe("outbox mode", () => {
  it.effect("register queues the verification sealed in the store and sends nothing until a worker runs", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      yield* harbor.register(alice)
      const rows = yield* outbox
      assert.strictEqual(rows.length, 1)
      assert.deepStrictEqual(yield* sent, [])
      const worker = yield* OutboxWorker.make()
      yield* worker.drain
      const messages = yield* sent
      assert.deepStrictEqual(messages.map((m) => [m._tag, m.to.email]), [["VerificationEmail", alice.email]])
      assert.deepStrictEqual(yield* outbox, [], "a delivered row is deleted")
      const token = Option.getOrThrow(yield* (yield* recorder).lastToken("VerificationEmail", alice.email))
      // The row held neither the token nor the address in the clear.
      const payload = rows[0]?.payload ?? ""
      assert.notInclude(payload, token)
      assert.notInclude(payload, alice.email)
      assert.notInclude(payload, Buffer.from(token).toString("base64"))
      assert.match(payload, /^v1\.[A-Za-z0-9_-]+$/)
      yield* harbor.verifyEmail(token)
    }).pipe(Effect.provide(kit())))

  it.effect("requests about unknown addresses write a decoy that the worker deletes without sending", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      yield* harbor.sendPasswordReset("nobody@example.com")
      yield* harbor.resendVerification("nobody@example.com")
      const decoys = yield* outbox
      assert.strictEqual(decoys.length, 2)
      yield* (yield* OutboxWorker.make()).drain
      assert.deepStrictEqual(yield* sent, [])
      assert.deepStrictEqual(yield* outbox, [])
    }).pipe(Effect.provide(kit())))

  it.effect("an invalid address is refused before the decoy path: no row, whatever its size", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      for (const input of ["x".repeat(1_000_000), "x".repeat(300) + "@example.com", "no-at-sign", ""]) {
        const reset = yield* Effect.flip(harbor.sendPasswordReset(input))
        const resend = yield* Effect.flip(harbor.resendVerification(input))
        assert.deepStrictEqual([reset._tag, resend._tag], ["InvalidEmail", "InvalidEmail"])
      }
      assert.deepStrictEqual(yield* outbox, [])
    }).pipe(Effect.provide(kit())))

  it.effect("a decoy row is sealed from the validated address, so it is no larger than a real message's", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      const longest = `${"n".repeat(64)}@${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(53)}.example`
      yield* harbor.sendPasswordReset(`  ${longest.toUpperCase()}  `)
      const rows = yield* outbox
      assert.strictEqual(rows.length, 1)
      // A reset mail to the longest valid address: the payload holds the address once, sealed and base64url-encoded.
      assert.isBelow(rows[0]!.payload.length, 2_000)
    }).pipe(Effect.provide(kit())))

  it.effect("layerOutbox provides the same service under UserHarbor too", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* UserHarbor, yield* UserHarborOutbox)
    }).pipe(Effect.provide(kit())))

  it.effect("a row sealed under another secret key does not open: the worker drops it and sends nothing", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      yield* harbor.register(alice)
      const config = yield* UserHarborConfig.UserHarborConfig
      const rotated = { ...config, secretKey: Redacted.make("another-secret-key-0123456789abcdefghij") }
      const abandoned = yield* counter(Metrics.outboxAbandoned)
      yield* Effect.flatMap(OutboxWorker.make(), (worker) => worker.drain).pipe(
        Effect.provideService(UserHarborConfig.UserHarborConfig, rotated)
      )
      assert.deepStrictEqual(yield* sent, [])
      assert.deepStrictEqual(yield* outbox, [])
      assert.strictEqual((yield* counter(Metrics.outboxAbandoned)) - abandoned, 1)
    }).pipe(Effect.provide(kit())))

  it.effect("a payload moved to another row does not open, and is dropped", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      const store = yield* OutboxStore
      yield* harbor.register(alice)
      const [row] = yield* outbox
      assert.isDefined(row)
      if (row === undefined) return
      yield* store.enqueueEmail({ ...row, id: `${row.id}0` })
      const abandoned = yield* counter(Metrics.outboxAbandoned)
      yield* (yield* OutboxWorker.make()).drain
      assert.strictEqual((yield* sent).length, 1, "only the genuine row is sent")
      assert.deepStrictEqual(yield* outbox, [])
      assert.strictEqual((yield* counter(Metrics.outboxAbandoned)) - abandoned, 1)
    }).pipe(Effect.provide(kit())))

  it.effect("a failed delivery is retried on the schedule, logged with a masked address, and counted", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      const logs = yield* captureLogs
      yield* (yield* recorder).setFailing(true)
      // The mail server is down: register still succeeds (its error channel has no EmailDeliveryError).
      yield* harbor.register(alice)
      const failures = yield* counter(Metrics.outboxFailedAttempts)
      const worker = yield* OutboxWorker.make({ retry: Schedule.spaced("1 minute") })
      yield* worker.drain.pipe(
        Effect.provide(logs.layer),
        Effect.locally(FiberRef.currentMinimumLogLevel, LogLevel.All)
      )
      const [row] = yield* outbox
      assert.strictEqual(row?.attempts, 1)
      assert.strictEqual(row?.nextAttemptAt, Duration.toMillis("1 minute"))
      assert.strictEqual((yield* counter(Metrics.outboxFailedAttempts)) - failures, 1)
      const lines = (yield* logs.lines).join("\n")
      assert.include(lines, "a***@example.com")
      assert.notInclude(lines, alice.email)
      // Not due yet: nothing happens.
      yield* worker.drain
      assert.strictEqual((yield* outbox)[0]?.attempts, 1)
      yield* (yield* recorder).setFailing(false)
      yield* TestClock.adjust("1 minute")
      const delivered = yield* counter(Metrics.outboxDelivered)
      yield* worker.drain
      assert.deepStrictEqual((yield* sent).map((m) => m._tag), ["VerificationEmail"])
      assert.deepStrictEqual(yield* outbox, [])
      assert.strictEqual((yield* counter(Metrics.outboxDelivered)) - delivered, 1)
      const token = Option.getOrThrow(yield* (yield* recorder).lastToken("VerificationEmail", alice.email))
      assert.notInclude(lines, token)
    }).pipe(Effect.provide(kit())))

  it.effect("a token message is given up once its token would have expired", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      yield* (yield* recorder).setFailing(true)
      yield* harbor.register(alice)
      const abandoned = yield* counter(Metrics.outboxAbandoned)
      const worker = yield* OutboxWorker.make({ retry: Schedule.spaced("1 minute") })
      yield* worker.drain // fails, next attempt at 1 minute (before the 2-minute expiry)
      assert.strictEqual((yield* outbox).length, 1)
      yield* TestClock.adjust("1 minute")
      yield* worker.drain // fails again; the next attempt would be at the expiry: given up
      assert.deepStrictEqual(yield* outbox, [])
      assert.strictEqual((yield* counter(Metrics.outboxAbandoned)) - abandoned, 1)
      assert.deepStrictEqual(yield* sent, [])
    }).pipe(Effect.provide(kit({ verificationTokenTtl: "2 minutes" }))))

  it.effect("a notice is retried until noticeMaxAge, then given up", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      yield* harbor.register(alice)
      yield* harbor.register({ ...alice, username: "mallory" }) // taken address: a notice to alice
      yield* (yield* recorder).setFailing(true)
      const worker = yield* OutboxWorker.make({ retry: Schedule.spaced("1 hour"), noticeMaxAge: "90 minutes" })
      yield* worker.drain
      assert.strictEqual((yield* outbox).length, 2)
      yield* TestClock.adjust("1 hour")
      yield* worker.drain
      // The verification (24 hours) is still queued; the notice (90 minutes) was given up.
      const left = yield* outbox
      assert.strictEqual(left.length, 1)
      yield* (yield* recorder).setFailing(false)
      yield* TestClock.adjust("1 hour")
      yield* worker.drain
      assert.deepStrictEqual((yield* sent).map((m) => m._tag), ["VerificationEmail"])
    }).pipe(Effect.provide(kit())))

  it.effect("two workers draining at once send every message exactly once", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      for (let i = 0; i < 20; i++) {
        yield* harbor.register({ username: `user${i}`, email: `user${i}@example.com`, password })
      }
      const workers = yield* Effect.all([OutboxWorker.make({ batchSize: 3 }), OutboxWorker.make({ batchSize: 3 })])
      yield* Effect.all(workers.map((w) => w.drain), { concurrency: "unbounded" })
      const messages = yield* sent
      assert.strictEqual(messages.length, 20)
      assert.strictEqual(HashSet.size(HashSet.fromIterable(messages.map((m) => m.to.email))), 20)
      assert.deepStrictEqual(yield* outbox, [])
    }).pipe(Effect.provide(kit())))

  it.effect("OutboxWorker.layer delivers in the background until its scope closes", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarborOutbox
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Layer.build(OutboxWorker.layer({ pollInterval: "1 second" }))
        yield* harbor.register(alice)
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* sent).length, 1)
      }))
      // The worker is gone with its scope: a new message stays queued.
      yield* harbor.sendPasswordReset(alice.email)
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual((yield* sent).length, 1)
      assert.strictEqual((yield* outbox).length, 1)
    }).pipe(Effect.provide(kit())))

  it("masks addresses for logs", () => {
    assert.strictEqual(OutboxWorker.maskAddress("jane@example.com"), "j***@example.com")
    assert.strictEqual(OutboxWorker.maskAddress("x@y.z"), "x***@y.z")
    assert.strictEqual(OutboxWorker.maskAddress("no-at-sign"), "***")
  })
})
