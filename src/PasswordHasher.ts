/**
 * The password hashing port, and `bounded`, which caps the hashing work of any hasher. The implementation the
 * library ships is argon2id, in `Argon2Hasher` (loaded only when an app builds it); the argon2 names still found
 * here (`make`, `layer`, `layerInsecureForTesting`, `defaultOptions`, `meetsOwaspMinimum`, `Argon2Options`) are
 * deprecated aliases of that module's.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import type * as Redacted from "effect/Redacted"
import { availableParallelism } from "node:os"
import type * as Argon2Hasher from "./Argon2Hasher.js"
import type * as EffectTypes from "./EffectTypes.js"
import { Busy } from "./Errors.js"
import * as Argon2Parameters from "./internal/argon2Parameters.js"
import * as Metrics from "./Metrics.js"

/**
 * The shape of the `PasswordHasher` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface PasswordHasherService {
  /** Fails with `Busy` only when the hasher is bounded (see `bounded`) and at capacity. */
  readonly hash: (password: Redacted.Redacted<string>) => Effect.Effect<string, Busy>
  /**
   * Constant-time; `false` (never a failure) for a wrong password or a malformed stored hash. Fails with `Busy`
   * only when the hasher is bounded and at capacity.
   */
  readonly verify: (password: Redacted.Redacted<string>, hash: string) => Effect.Effect<boolean, Busy>
  /** `true` when the hash was made with other parameters than the current ones. */
  readonly needsRehash: (hash: string) => boolean
  /**
   * Admission ahead of the work: runs `self` holding one of the hasher's places, so that no `hash` or `verify`
   * inside it fails with `Busy` (they wait for a permit instead), or fails with `Busy` at once, before `self` does
   * anything, when every place is taken. `UserHarbor` admits each login, registration and password check before
   * its store round trips, so a flood is refused without touching the database (and a refused login never counts
   * as a failure). A bounded hasher (see `bounded`) has it; a hasher without it is never busy, and `self` runs as
   * it is.
   */
  readonly admit?: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Busy, R>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class PasswordHasher extends Context.Tag("userharbor/PasswordHasher")<PasswordHasher, PasswordHasherService>() {}

/**
 * How much hashing may run and wait at once. `permits` hashes run concurrently; up to `maxQueue` more wait for a
 * permit; any call beyond that fails at once with `Busy`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  readonly permits: number
  readonly maxQueue: number
}

/**
 * Two hashes per CPU, 64 waiting. argon2 runs on libuv's thread pool (4 threads unless `UV_THREADPOOL_SIZE` says
 * otherwise), so permits beyond the pool's size only move the queue from us into libuv; the bound that matters is
 * `permits + maxQueue` hashes of `memoryCost` KiB each at most.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLimits = (): Limits => ({ permits: 2 * availableParallelism(), maxQueue: 64 })

// The bounded hashers (by identity) whose places the current fiber holds through `admit`.
const places = globalValue(
  Symbol.for("userharbor/PasswordHasher/places"),
  () => FiberRef.unsafeMake<ReadonlySet<object>>(new Set())
)

type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/**
 * Puts a hasher behind a semaphore with a bounded wait queue: at most `permits` hashes or verifications run at
 * once, at most `maxQueue` more wait, and the rest fail fast with `Busy`, so a login flood cannot pile up
 * memory-hungry argon2 work. `admit` takes one of the same `permits + maxQueue` places for a whole operation, ahead
 * of its store round trips. `needsRehash` is cheap and stays unbounded.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bounded = (
  hasher: PasswordHasherService,
  limits: Partial<Limits> = {}
): Effect.Effect<PasswordHasherService> =>
  Effect.gen(function*() {
    const { maxQueue, permits } = { ...defaultLimits(), ...limits }
    const semaphore = yield* Effect.makeSemaphore(Math.max(1, Math.floor(permits)))
    const capacity = Math.max(1, Math.floor(permits)) + Math.max(0, Math.floor(maxQueue))
    // Admitted calls and operations, and the calls waiting for a permit (the queue-depth gauge). Plain numbers are
    // enough: JavaScript runs one fiber step at a time, and each check-and-update below is a single synchronous step.
    let admitted = 0
    let waiting = 0
    const identity = {}
    const reportDepth = Effect.suspend(() => Metric.set(Metrics.hashQueueDepth, waiting))
    // Takes a place, or fails with `Busy` at once; the place is given back however `use` ends.
    const enter = <A, E, R>(use: (restore: Restore) => Effect.Effect<A, E, R>): Effect.Effect<A, E | Busy, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend((): Effect.Effect<A, E | Busy, R> => {
          if (admitted >= capacity) return Effect.fail(new Busy())
          admitted++
          return Effect.ensuring(use(restore), Effect.sync(() => admitted--))
        })
      )
    // Waits for a permit, holding a place already.
    const run = <A>(work: Effect.Effect<A, Busy>, restore: Restore): Effect.Effect<A, Busy> =>
      Effect.suspend(() => {
        waiting++
        let started = false
        const start = Effect.suspend(() => {
          started = true
          waiting--
          return Effect.zipRight(reportDepth, restore(work))
        })
        return Effect.zipRight(reportDepth, restore(semaphore.withPermits(1)(start))).pipe(
          Effect.ensuring(Effect.suspend(() => {
            if (!started) waiting-- // interrupted while it waited
            return reportDepth
          }))
        )
      })
    const holds = Effect.map(FiberRef.get(places), (held) => held.has(identity))
    const guard = <A>(work: Effect.Effect<A, Busy>): Effect.Effect<A, Busy> =>
      Effect.flatMap(holds, (admittedAlready) =>
        admittedAlready
          ? Effect.uninterruptibleMask((restore) => run(work, restore))
          : enter((restore) => run(work, restore)))
    return PasswordHasher.of({
      hash: (password) => guard(hasher.hash(password)),
      verify: (password, hash) => guard(hasher.verify(password, hash)),
      needsRehash: hasher.needsRehash,
      admit: (self) =>
        Effect.flatMap(FiberRef.get(places), (held) =>
          held.has(identity)
            ? self
            : enter((restore) => restore(Effect.locally(self, places, new Set([...held, identity])))))
    })
  })

// `Argon2Hasher` imports this module (the tag, `bounded`), so the aliases below load it on use rather than
// importing it statically: a cycle would leave one of the two modules half-initialised, depending on which an app
// imports first.
const argon2Hasher: Effect.Effect<typeof Argon2Hasher> = Effect.promise(() => import("./Argon2Hasher.js"))

/**
 * @since 0.1.0
 * @category models
 * @deprecated Use `Argon2Hasher.Argon2Options`.
 */
export type Argon2Options = Argon2Hasher.Argon2Options

/**
 * @since 0.1.0
 * @category constants
 * @deprecated Use `Argon2Hasher.defaultOptions`.
 */
export const defaultOptions: Argon2Options = Argon2Parameters.defaultOptions

/**
 * @since 0.1.0
 * @category predicates
 * @deprecated Use `Argon2Hasher.meetsOwaspMinimum`.
 */
export const meetsOwaspMinimum: (options: Argon2Options) => boolean = Argon2Parameters.meetsOwaspMinimum

/**
 * argon2id, unbounded: see `Argon2Hasher.make`.
 *
 * @since 0.1.0
 * @category constructors
 * @deprecated Use `Argon2Hasher.make`.
 */
export const make = (
  options: Argon2Options = defaultOptions
): Effect.Effect<PasswordHasherService, EffectTypes.ConfigError> =>
  Effect.flatMap(argon2Hasher, (module) => module.make(options))

/**
 * argon2id, bounded: see `Argon2Hasher.layer`.
 *
 * @since 0.1.0
 * @category layers
 * @deprecated Use `Argon2Hasher.layer`.
 */
export const layer = (
  options: Argon2Options = defaultOptions,
  limits: Partial<Limits> = {}
): Layer.Layer<PasswordHasher, EffectTypes.ConfigError> =>
  Layer.unwrapEffect(Effect.map(argon2Hasher, (module) => module.layer(options, limits)))

/**
 * argon2id with tiny parameters, for tests only: see `Argon2Hasher.layerInsecureForTesting`.
 *
 * @since 0.1.0
 * @category layers
 * @deprecated Use `Argon2Hasher.layerInsecureForTesting`.
 */
export const layerInsecureForTesting: Layer.Layer<PasswordHasher> = Layer.unwrapEffect(
  Effect.map(argon2Hasher, (module) => module.layerInsecureForTesting)
)
