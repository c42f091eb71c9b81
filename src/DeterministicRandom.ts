/**
 * A `SecureRandom` for tests: the same seed gives the same tokens and ids in every run. Its bytes come from
 * SHA-256 in counter mode over the seed, so they look random but are fully predictable: never use it for real
 * secrets.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createHash } from "node:crypto"
import { SecureRandom, type SecureRandomService } from "./SecureRandom.js"

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (seed: string): Effect.Effect<SecureRandomService> =>
  Effect.sync(() => {
    let counter = 0
    const block = () => createHash("sha256").update(seed).update(String(counter++)).digest()
    return SecureRandom.of({
      nextBytes: (size) =>
        Effect.sync(() => {
          const out = new Uint8Array(size)
          for (let offset = 0; offset < size; offset += 32) {
            out.set(block().subarray(0, Math.min(32, size - offset)), offset)
          }
          return out
        })
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (seed = "userharbor"): Layer.Layer<SecureRandom> => Layer.effect(SecureRandom, make(seed))
