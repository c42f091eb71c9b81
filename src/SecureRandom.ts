/**
 * The source of every secret the library makes: tokens and ids. Effect's `Random` is a PCG seeded from
 * `Math.random` and must never produce a secret, so this port exists and its default reads `node:crypto`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { randomBytes } from "node:crypto"

/**
 * The shape of the `SecureRandom` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface SecureRandomService {
  readonly nextBytes: (size: number) => Effect.Effect<Uint8Array>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class SecureRandom extends Context.Tag("userharbor/SecureRandom")<SecureRandom, SecureRandomService>() {}

/**
 * The operating system's CSPRNG through `node:crypto`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: SecureRandomService = SecureRandom.of({
  nextBytes: (size) => Effect.sync(() => randomBytes(size))
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SecureRandom> = Layer.succeed(SecureRandom, make)
