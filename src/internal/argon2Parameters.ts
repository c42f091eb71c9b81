/**
 * argon2id's parameters and OWASP's minimums for them, apart from the hasher: `Argon2Hasher` uses them, and the
 * deprecated aliases in `PasswordHasher` re-export them without loading `Argon2Hasher` (which imports
 * `PasswordHasher`, so a static import back would be a cycle).
 */
import type { Argon2Options } from "../Argon2Hasher.js"

export const defaultOptions: Argon2Options = { memoryCost: 65536, timeCost: 3, parallelism: 4 }

// OWASP Password Storage Cheat Sheet: equivalent argon2id minimums as (memory KiB, passes) pairs.
const owaspMinimums: ReadonlyArray<readonly [memoryCost: number, timeCost: number]> = [
  [47104, 1],
  [19456, 2],
  [12288, 3],
  [9216, 4],
  [7168, 5]
]

export const meetsOwaspMinimum = (options: Argon2Options): boolean =>
  options.parallelism >= 1 &&
  owaspMinimums.some(([memoryCost, timeCost]) => options.memoryCost >= memoryCost && options.timeCost >= timeCost)
