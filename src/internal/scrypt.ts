/**
 * Verification of imported scrypt hashes, so users of a system being migrated can log in with their old password
 * and be upgraded to argon2id on that login. One format is accepted, the PHC string that passlib and several Node
 * libraries write: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`, salt and hash in base64 (standard or
 * passlib's `.`-for-`+` alphabet, padding optional), with a 32- or 64-byte key. Only `node:crypto` is used.
 */
import { scrypt, timingSafeEqual } from "node:crypto"

const format = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/.]+={0,2})\$([A-Za-z0-9+/.]+={0,2})$/

const decode = (b64: string) => Buffer.from(b64.replace(/\./g, "+"), "base64")

// Limits keep a hostile stored hash from asking for gigabytes or minutes of work: N <= 2^20, r <= 32, p <= 16.
const maxmem = 256 * 1024 * 1024

export const isScryptHash = (hash: string): boolean => hash.startsWith("$scrypt$")

/** `true` only for a well-formed hash of this password; `false` for anything else, never a rejection. */
export const verifyScrypt = (password: string, hash: string): Promise<boolean> => {
  const match = format.exec(hash)
  if (match === null) return Promise.resolve(false)
  const [, ln, r, p, salt, expected] = match.map(String)
  const cost = { N: 2 ** Number(ln), r: Number(r), p: Number(p), maxmem }
  const want = decode(expected ?? "")
  if (cost.N < 2 || cost.N > 2 ** 20 || cost.r < 1 || cost.r > 32 || cost.p < 1 || cost.p > 16) {
    return Promise.resolve(false)
  }
  // scrypt's output is a prefix-stable stream, so a truncated hash would still "match": only the key lengths
  // libraries write (32 or 64 bytes) are accepted.
  if (want.length !== 32 && want.length !== 64) return Promise.resolve(false)
  return new Promise((resolve) => {
    scrypt(password, decode(salt ?? ""), want.length, cost, (error, derived) => {
      resolve(error === null && timingSafeEqual(derived, want))
    })
  })
}
