/**
 * Removes expired sessions and tokens, and unverified accounts past their time (`unverifiedAccountTtl`, 7 days by
 * default), in the background, with any `UserStore`; with a `FactorStore` in context, expired login and WebAuthn
 * challenges too, and with a `SecurityEventStore`, security events older than their retention (90 days by default). Each run deletes in batches until a batch comes back less than
 * full, so a large backlog never becomes one long lock. A failed run is logged and the schedule goes on; the fiber
 * stops when the layer's scope closes.
 *
 * Throttling counters are left alone: `CounterStore.purgeCounters` selects by last update only, and a login counter
 * keeps counting consecutive failures however old it is (past `disableAfter` it disables password login until a
 * reset), so no age is safe to purge it at.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as EffectTypes from "./EffectTypes.js"
import type { StoreError } from "./Errors.js"
import { FactorStore } from "./FactorStore.js"
import * as Durations from "./internal/durations.js"
import { SecurityEventStore } from "./SecurityEventStore.js"
import { defaultSecurityEventRetention, defaultUnverifiedAccountTtl, UserHarborConfig } from "./UserHarborConfig.js"
import { UserStore } from "./UserStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** When to run again after a run; every hour by default. The first run starts at once. */
  readonly schedule?: Schedule.Schedule<unknown> | undefined
  /** Rows per statement; 1000 by default. */
  readonly batchSize?: number | undefined
  /**
   * Unverified accounts created longer ago than this are deleted. By default the `UserHarborConfig` setting of
   * the same name when one is provided, else 7 days. It must be positive and finite: `layer` dies at build on any
   * other value (a zero TTL would delete every unverified account at once), and so does `purgeAll`.
   */
  readonly unverifiedAccountTtl?: EffectTypes.DurationInput | undefined
  /**
   * Security events older than this are deleted. By default the `UserHarborConfig` setting `securityEvents.retention`
   * when one is provided, else 90 days. Positive and finite, checked like `unverifiedAccountTtl`.
   */
  readonly securityEventRetention?: EffectTypes.DurationInput | undefined
}

const ttlOf = (input: EffectTypes.DurationInput) => Durations.positiveOrDie(["unverifiedAccountTtl"], input)
const retentionOf = (input: EffectTypes.DurationInput) => Durations.positiveOrDie(["securityEventRetention"], input)

/**
 * Purges everything that has expired by now, batch by batch: sessions and tokens, then unverified accounts created
 * more than `unverifiedAccountTtl` ago (see `Options`), then, when a `FactorStore` is provided (it is optional, as
 * for `UserHarbor`), expired second-factor challenges, and, when a `SecurityEventStore` is provided, security events
 * older than `securityEventRetention`. Returns how many rows went (an account counts as one).
 *
 * @since 0.1.0
 * @category purging
 */
export const purgeAll = (
  batchSize = 1000,
  unverifiedAccountTtl?: EffectTypes.DurationInput,
  securityEventRetention?: EffectTypes.DurationInput
): Effect.Effect<number, StoreError, UserStore> =>
  Effect.gen(function*() {
    const store = yield* UserStore
    const size = Math.max(1, Math.floor(batchSize))
    const now = yield* Clock.currentTimeMillis
    const config = yield* Effect.serviceOption(UserHarborConfig)
    const ttl = Duration.toMillis(
      yield* ttlOf(
        unverifiedAccountTtl ??
          (config._tag === "Some" ? config.value.unverifiedAccountTtl : defaultUnverifiedAccountTtl)
      )
    )
    const drain = (purge: Effect.Effect<number, StoreError>) =>
      Effect.iterate({ total: 0, last: size }, {
        while: ({ last }) => last >= size,
        body: ({ total }) => Effect.map(purge, (removed) => ({ total: total + removed, last: removed }))
      }).pipe(Effect.map(({ total }) => total))
    const expired = yield* drain(store.purgeExpired({ now, limit: size }))
    const unverified = yield* drain(store.purgeUnverifiedUsers({ createdBefore: now - ttl, limit: size }))
    const factors = yield* Effect.serviceOption(FactorStore)
    const challenges = factors._tag === "Some"
      ? yield* drain(factors.value.purgeExpiredChallenges({ now, limit: size }))
      : 0
    const eventStore = yield* Effect.serviceOption(SecurityEventStore)
    if (eventStore._tag === "None") return expired + unverified + challenges
    const retention = Duration.toMillis(
      yield* retentionOf(
        securityEventRetention ??
          (config._tag === "Some" ? config.value.securityEvents.retention : defaultSecurityEventRetention)
      )
    )
    const events = yield* drain(eventStore.value.purgeEvents({ before: now - retention, limit: size }))
    return expired + unverified + challenges + events
  })

/**
 * Runs `purgeAll` on the schedule forever; failures are logged, never raised.
 *
 * @since 0.1.0
 * @category purging
 */
export const run = (options: Options = {}): Effect.Effect<void, never, UserStore> =>
  purgeAll(options.batchSize, options.unverifiedAccountTtl, options.securityEventRetention).pipe(
    Effect.tap((removed) =>
      removed > 0
        ? Effect.logDebug("UserHarbor: purged expired rows").pipe(Effect.annotateLogs({ removed }))
        : Effect.void
    ),
    Effect.catchTag(
      "StoreError",
      (error) =>
        Effect.logWarning("UserHarbor: purging expired sessions and tokens failed").pipe(
          Effect.annotateLogs({ operation: error.operation })
        )
    ),
    // A defect here must not silently end the background fiber: log it and try again next time.
    Effect.catchAllDefect((defect) => Effect.logError("UserHarbor: purge crashed", defect)),
    Effect.repeat(options.schedule ?? Schedule.spaced("1 hour")),
    Effect.asVoid
  )

/**
 * Starts `run` in the background for as long as the layer's scope is open.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<never, never, UserStore> =>
  Layer.scopedDiscard(
    // Checked at build: `run` would only log the defect, once a schedule period.
    Effect.all([
      options.unverifiedAccountTtl === undefined ? Effect.void : ttlOf(options.unverifiedAccountTtl),
      options.securityEventRetention === undefined ? Effect.void : retentionOf(options.securityEventRetention),
      Effect.forkScoped(run(options))
    ])
  )
