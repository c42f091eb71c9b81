import * as Redacted from "effect/Redacted"

/** Public operations take secrets as plain strings or `Redacted`; inside, they are always `Redacted`. */
export type SecretInput = string | Redacted.Redacted<string>

export const redact = (input: SecretInput): Redacted.Redacted<string> =>
  typeof input === "string" ? Redacted.make(input) : input
