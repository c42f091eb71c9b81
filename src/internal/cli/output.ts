/**
 * What a command prints: its result on stdout (text for people, or one JSON document with `--json`), and
 * everything else (errors, notices) on stderr, so a script can read stdout alone.
 */
import * as Console from "effect/Console"
import type * as Effect from "effect/Effect"

/** The result of a command: `value` as JSON, or the lines of `text`. */
export const result = (json: boolean, value: unknown, text: () => ReadonlyArray<string>): Effect.Effect<void> =>
  Console.log(json ? JSON.stringify(value, null, 2) : text().join("\n"))

/** One line on stderr. */
export const note = (line: string): Effect.Effect<void> => Console.error(`userharbor: ${line}`)

/** An instant (epoch milliseconds) for people and for JSON alike. */
export const instant = (millis: number): string => new Date(millis).toISOString()
