/**
 * Delivers the email outbox: claims due messages from the `OutboxStore`, opens them, sends them through the
 * `EmailSender` and deletes them. A failed delivery is retried on an exponential schedule with jitter until the
 * message's token would have expired (or, for a notice, until it is `noticeMaxAge` old), logged with a masked
 * address and no token, and counted in metrics (`Metrics.outboxDelivered`, `outboxFailedAttempts`,
 * `outboxAbandoned`).
 *
 * Claims are atomic and leased: any number of workers, in one process or in many app servers, can run at once and
 * none sends a message another one holds. A worker that dies mid-delivery leaves a claim that ends with its lease,
 * and another worker (or the same one, restarted) takes the message over. A worker interrupted while sending
 * aborts the SMTP session and releases the claim; once the mail server has accepted a message, deleting its row is
 * uninterruptible, so a message goes out twice only if the store fails between the two.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { randomUUID } from "node:crypto"
import type * as EffectTypes from "./EffectTypes.js"
import { type EmailMessage, EmailSender } from "./EmailSender.js"
import type { StoreError } from "./Errors.js"
import * as Durations from "./internal/durations.js"
import * as OutboxCrypto from "./internal/outboxCrypto.js"
import { outboxAbandoned, outboxDelivered, outboxFailedAttempts } from "./Metrics.js"
import { type OutboxRecord, OutboxStore } from "./OutboxStore.js"
import { UserHarborConfig } from "./UserHarborConfig.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How long to wait after a poll that found less than a full batch. Default 1 second. */
  readonly pollInterval?: EffectTypes.DurationInput
  /** Messages claimed (and sent concurrently) per poll. Default 10. */
  readonly batchSize?: number
  /**
   * How long a claim holds. It must outlast one send, including the sender's own timeouts (the SMTP sender gives
   * up after 60 seconds by default). Default 2 minutes.
   */
  readonly lease?: EffectTypes.DurationInput
  /**
   * The delays between attempts, as a `Schedule` whose n-th delay is the wait after the n-th failure; when it
   * ends, the message is given up. Default: exponential from 10 seconds, doubling, with jitter, at most 1 hour.
   */
  readonly retry?: Schedule.Schedule<unknown, unknown>
  /** How long a notice (no token) is retried. Default 3 days. */
  readonly noticeMaxAge?: EffectTypes.DurationInput
}

/**
 * The worker's controls; `layer` runs `poll` in a loop.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutboxWorker {
  /** A random id, unique to this worker: the name its claims are held under. */
  readonly workerId: string
  /** Claims one batch of due messages and handles each; returns how many it claimed. */
  readonly poll: Effect.Effect<number, StoreError>
  /** Polls until a poll finds nothing due. */
  readonly drain: Effect.Effect<void, StoreError>
}

/**
 * An address as logs may show it: the first character of the local part and the domain (`j***@example.com`).
 *
 * @since 0.1.0
 * @category utils
 */
export const maskAddress = (address: string): string => {
  const at = address.lastIndexOf("@")
  if (at < 1) return "***"
  return `${address.slice(0, 1)}***${address.slice(at)}`
}

/**
 * The default retry schedule: exponential from 10 seconds, doubling, with jitter, at most 1 hour between attempts.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("10 seconds", 2).pipe(
  Schedule.jittered,
  Schedule.union(Schedule.spaced("1 hour"))
)

const invalid = (path: string, message: string) => Effect.fail(ConfigError.InvalidData([path], message))

const positive = (path: string, input: EffectTypes.DurationInput) => Durations.positiveMillis([path], input)

const build = Effect.fnUntraced(function*(options: Options) {
  const outbox = yield* OutboxStore
  const sender = yield* EmailSender
  const crypto = OutboxCrypto.make((yield* UserHarborConfig).secretKey)
  const pollInterval = yield* positive("pollInterval", options.pollInterval ?? "1 second")
  const leaseMs = yield* positive("lease", options.lease ?? "2 minutes")
  const noticeMaxAge = yield* positive("noticeMaxAge", options.noticeMaxAge ?? "3 days")
  const batchSize = options.batchSize ?? 10
  if (!Number.isInteger(batchSize) || batchSize < 1) return yield* invalid("batchSize", "must be a whole number >= 1")
  const delays = Schedule.delays(options.retry ?? defaultRetry)
  // Not SecureRandom: the test kit makes that one deterministic, and two workers must never share an id.
  const workerId = randomUUID()

  // The wait after the `attempts`-th failure, or `None` once the schedule has ended. Whole milliseconds: a jittered
  // delay is fractional, and the SQL stores keep instants in integer columns (SQLite would store a REAL).
  const delayAfter = (attempts: number, now: number) =>
    Effect.map(
      Schedule.run(delays, now, Array.from({ length: attempts }, () => undefined)),
      (all) =>
        Chunk.size(all) < attempts
          ? Option.none()
          : Option.map(Chunk.last(all), (delay) => Math.ceil(Duration.toMillis(delay)))
    )

  const giveUp = (row: OutboxRecord, message: EmailMessage, why: string) =>
    Effect.zipRight(
      outbox.dropEmail({ id: row.id, workerId }),
      Effect.logError("OutboxWorker: message given up").pipe(
        Effect.annotateLogs({ to: maskAddress(message.to.email), message: message._tag, attempts: row.attempts, why }),
        Effect.zipRight(Metric.increment(outboxAbandoned))
      )
    )

  const retryOrGiveUp = Effect.fnUntraced(function*(row: OutboxRecord, message: EmailMessage, deadline: number) {
    const now = yield* Clock.currentTimeMillis
    const attempts = row.attempts + 1
    const delay = yield* delayAfter(attempts, now)
    if (Option.isNone(delay) || now + delay.value >= deadline) {
      return yield* giveUp({ ...row, attempts }, message, Option.isNone(delay) ? "retries exhausted" : "expired")
    }
    yield* outbox.retryEmail({ id: row.id, workerId, attempts, nextAttemptAt: now + delay.value })
  })

  const deliver = Effect.fnUntraced(function*(row: OutboxRecord) {
    const envelope = yield* crypto.open(row.id, row.payload)
    if (envelope === undefined) {
      // Sealed under another secret key (or damaged): it can never be read, and keeping it would retry forever.
      yield* outbox.dropEmail({ id: row.id, workerId })
      yield* Metric.increment(outboxAbandoned)
      return yield* Effect.logError("OutboxWorker: unreadable message dropped (was the secret key changed?)")
    }
    // A decoy exists only to make its request cost what a real one does.
    if (envelope.decoy) return yield* outbox.completeEmail({ id: row.id, workerId })
    const message = envelope.message
    // A token message is worthless once its token has expired; a notice gets `noticeMaxAge`.
    const deadline = "expiresAt" in message
      ? message.expiresAt.getTime()
      : row.createdAt + noticeMaxAge
    if ((yield* Clock.currentTimeMillis) >= deadline) return yield* giveUp(row, message, "expired")
    yield* Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.exit(restore(sender.send(message))), (exit) => {
        if (Exit.isSuccess(exit)) {
          return outbox.completeEmail({ id: row.id, workerId }).pipe(
            Effect.tap(() => Metric.increment(outboxDelivered)),
            Effect.tap((held) =>
              held ? Effect.void : Effect.logWarning("OutboxWorker: claim lost before completion (lease too short?)")
            )
          )
        }
        // Released by `poll`'s interruption handler once this region ends.
        if (Exit.isInterrupted(exit)) return Effect.void
        return Effect.zipRight(
          Effect.logWarning("OutboxWorker: delivery failed").pipe(
            Effect.annotateLogs({
              to: maskAddress(message.to.email),
              message: message._tag,
              attempt: row.attempts + 1,
              reason: Option.match(Cause.failureOption(exit.cause), { onNone: () => "defect", onSome: (e) => e.reason })
            }),
            Effect.zipRight(Metric.increment(outboxFailedAttempts))
          ),
          retryOrGiveUp(row, message, deadline)
        )
      })
    )
  })

  const poll: Effect.Effect<number, StoreError> = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const rows = yield* outbox.claimEmails({ now, limit: batchSize, leaseMs, workerId })
    yield* Effect.forEach(rows, (row) =>
      deliver(row).pipe(
        // Interrupted before the mail server accepted it: let the next poll (of any worker) take it at once
        // instead of waiting for the lease to end. The attempt does not count.
        Effect.onInterrupt(() =>
          Effect.flatMap(
            Clock.currentTimeMillis,
            (now) => outbox.retryEmail({ id: row.id, workerId, attempts: row.attempts, nextAttemptAt: now })
          ).pipe(Effect.ignore)
        ),
        // One row's store failure must not stop the others; its claim ends with its lease.
        Effect.catchTag("StoreError", (error) =>
          Effect.logWarning("OutboxWorker: store failed while handling a message").pipe(
            Effect.annotateLogs({ operation: error.operation })
          ))
      ), { concurrency: "unbounded", discard: true })
    return rows.length
  })

  const drain: Effect.Effect<void, StoreError> = Effect.flatMap(poll, (n) => n === 0 ? Effect.void : drain)

  const worker: OutboxWorker = { workerId, poll, drain }
  return { worker, pollInterval, batchSize }
})

/**
 * Builds a worker without starting it (for a cron job, or a test that polls by hand).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<OutboxWorker, EffectTypes.ConfigError, OutboxStore | EmailSender | UserHarborConfig> =>
  Effect.map(build(options), ({ worker }) => worker)

/**
 * Runs a worker for as long as the layer's scope is open: a fiber that polls, sleeping `pollInterval` after a
 * poll that found less than a full batch. A store failure is logged and the loop goes on.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<never, EffectTypes.ConfigError, OutboxStore | EmailSender | UserHarborConfig> =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const { batchSize, pollInterval, worker } = yield* build(options)
    const loop = worker.poll.pipe(
      Effect.catchTag("StoreError", (error) =>
        Effect.as(
          Effect.logWarning("OutboxWorker: poll failed").pipe(Effect.annotateLogs({ operation: error.operation })),
          0
        )),
      Effect.flatMap((claimed) => claimed < batchSize ? Effect.sleep(Duration.millis(pollInterval)) : Effect.void),
      Effect.forever
    )
    yield* Effect.forkScoped(Effect.annotateLogs(loop, { worker: worker.workerId }))
  }))
