/**
 * Password hashing. The default is argon2id through the `argon2` package, whose work runs on libuv's thread pool,
 * so hashing never blocks the event loop. Hashes are PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so the
 * parameters travel with each hash and can be raised later. Imported scrypt hashes in PHC form
 * (`$scrypt$ln=…,r=…,p=…$salt$hash`, base64) verify as well, and are upgraded to argon2id on the next login.
 *
 * @since 0.1.0
 */
import * as argon2 from "argon2"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import { availableParallelism } from "node:os"
import { Busy } from "./Errors.js"
import { isScryptHash, verifyScrypt } from "./internal/scrypt.js"
import * as Metrics from "./Metrics.js"

/**
 * @since 0.1.0
 * @category tags
 */
export class PasswordHasher extends Context.Tag("userharbor/PasswordHasher")<PasswordHasher, {
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
}>() {}

/**
 * argon2id parameters. `memoryCost` is in KiB.
 *
 * @since 0.1.0
 * @category models
 */
export interface Argon2Options {
  readonly memoryCost: number
  readonly timeCost: number
  readonly parallelism: number
}

/**
 * 64 MiB, 3 passes, 4 lanes: above every OWASP minimum, about 0.1-0.2 s per hash on a current core.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultOptions: Argon2Options = { memoryCost: 65536, timeCost: 3, parallelism: 4 }

// OWASP Password Storage Cheat Sheet: equivalent argon2id minimums as (memory KiB, passes) pairs.
const owaspMinimums: ReadonlyArray<readonly [memoryCost: number, timeCost: number]> = [
  [47104, 1],
  [19456, 2],
  [12288, 3],
  [9216, 4],
  [7168, 5]
]

/**
 * `true` when the parameters meet at least one of OWASP's argon2id minimums.
 *
 * @since 0.1.0
 * @category predicates
 */
export const meetsOwaspMinimum = (options: Argon2Options): boolean =>
  options.parallelism >= 1 &&
  owaspMinimums.some(([memoryCost, timeCost]) => options.memoryCost >= memoryCost && options.timeCost >= timeCost)

// `argon2` 0.4x writes the parameters as `m=…,p=…,t=…`, but the PHC reference order is `m=…,t=…,p=…`, the only
// order libargon2's decoder (and so argon2-cffi, PHP and libsodium) accepts: rewritten, a stored hash stays portable.
// `argon2.verify` parses the parameters by name, so it reads either order.
const phcParams = /^(\$argon2id\$v=\d+\$)m=(\d+),p=(\d+),t=(\d+)\$/
const canonicalOrder = (hash: string): string =>
  hash.replace(phcParams, (_, prefix: string, m: string, p: string, t: string) => `${prefix}m=${m},t=${t},p=${p}$`)

const makeArgon2 = (options: Argon2Options): PasswordHasher["Type"] => {
  const hashOptions: argon2.HashOptions = { type: argon2.argon2id, ...options }
  return PasswordHasher.of({
    hash: (password) =>
      Effect.map(Effect.promise(() => argon2.hash(Redacted.value(password), hashOptions)), canonicalOrder),
    verify: (password, hash) =>
      Effect.promise(() =>
        // Imported scrypt hashes verify too; `needsRehash` is true for them, so the next login upgrades them.
        isScryptHash(hash)
          ? verifyScrypt(Redacted.value(password), hash)
          // argon2 rejects a malformed PHC string; for a login that is simply "does not match"
          : argon2.verify(hash, Redacted.value(password)).catch(() => false)
      ),
    needsRehash: (hash) => {
      try {
        return !hash.startsWith("$argon2id$") || argon2.needsRehash(hash, options)
      } catch {
        return true
      }
    }
  })
}

/**
 * argon2id with the given parameters, refused with a `ConfigError` when they are below OWASP's minimums.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Argon2Options = defaultOptions
): Effect.Effect<PasswordHasher["Type"], ConfigError.ConfigError> =>
  meetsOwaspMinimum(options)
    ? Effect.succeed(makeArgon2(options))
    : Effect.fail(
      ConfigError.InvalidData(
        ["argon2"],
        `argon2id parameters m=${options.memoryCost} t=${options.timeCost} p=${options.parallelism} are below the OWASP minimums`
      )
    )

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
  hasher: PasswordHasher["Type"],
  limits: Partial<Limits> = {}
): Effect.Effect<PasswordHasher["Type"]> =>
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

/**
 * argon2id with the given parameters (refused below OWASP's minimums), bounded by `bounded` with `limits`
 * (default `defaultLimits()`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Argon2Options = defaultOptions,
  limits: Partial<Limits> = {}
): Layer.Layer<PasswordHasher, ConfigError.ConfigError> =>
  Layer.effect(PasswordHasher, Effect.flatMap(make(options), (hasher) => bounded(hasher, limits)))

/**
 * argon2id with tiny parameters (256 KiB, 1 pass), for tests only: it makes each hash take well under a
 * millisecond and offers no protection for real passwords.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerInsecureForTesting: Layer.Layer<PasswordHasher> = Layer.succeed(
  PasswordHasher,
  makeArgon2({ memoryCost: 256, timeCost: 1, parallelism: 1 })
)
