/**
 * What the Redis modules share: connecting (with a secret-free failure line), running a command as an `Effect`
 * that fails with a `StoreError`, and Lua scripts sent by their SHA1 with a fallback for a server that lost them.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import type * as EffectTypes from "../EffectTypes.js"
import { StoreError } from "../Errors.js"
import { parseUrl, serverReason } from "./connectFailure.js"

/** The connection settings, resolved. */
export interface Settings {
  readonly url: Redacted.Redacted
  readonly connectTimeout: EffectTypes.DurationInput
  readonly commandTimeout: EffectTypes.DurationInput
  readonly connectionName: string
}

// Redis error replies start with an upper-case code by protocol (`WRONGPASS`, `NOSCRIPT`, `OOM`, `READONLY`); only
// that word is printed, never the rest of the message.
const replyCode = (cause: unknown): string | undefined => {
  if (!(cause instanceof Error) || cause.name !== "ReplyError") return undefined
  const word = /^([A-Z]{2,40})(?:\s|$)/.exec(cause.message)
  return word?.[1]
}

/** Whether the server answered that it does not hold the script (restarted, or `SCRIPT FLUSH`). */
const isNoScript = (error: StoreError): boolean => replyCode(error.unsafeDriverError()) === "NOSCRIPT"

/** Why a command failed, from the reply's code; never the error's message. */
const commandReason = (cause: unknown): string => {
  const code = replyCode(cause)
  if (code !== undefined) return `Redis answered with an error (${code})`
  if (cause instanceof Error && cause.message === "Command timed out") {
    return "Redis did not answer within the command timeout"
  }
  return "the connection to Redis is down or was lost during the command; commands fail until the client reconnects"
}

/** Runs one command (one round trip); a failure is a `StoreError` of `operation`. */
export const command = <A>(operation: string, run: () => Promise<A>): Effect.Effect<A, StoreError> =>
  Effect.tryPromise({
    try: run,
    catch: (cause) => new StoreError({ operation, reason: commandReason(cause), cause })
  })

/** A Lua script, loaded on the server once and then run by its SHA1. */
export interface Script {
  readonly lua: string
  readonly sha: string
}

export const loadScript = (redis: Redis, lua: string): Effect.Effect<Script, StoreError> =>
  Effect.map(
    command("connect", () => redis.script("LOAD", lua)),
    (sha) => ({ lua, sha: String(sha) })
  )

/**
 * Runs a script: one round trip, or two when the server has lost it since it was loaded (a restart), whereupon
 * `EVAL` loads it again.
 */
export const runScript = (
  redis: Redis,
  operation: string,
  script: Script,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number>
): Effect.Effect<unknown, StoreError> =>
  command(operation, () => redis.evalsha(script.sha, keys.length, ...keys, ...args)).pipe(
    Effect.catchIf(
      isNoScript,
      () => command(operation, () => redis.eval(script.lua, keys.length, ...keys, ...args))
    )
  )

/** The reason of a failed start: the last connection error's code says what to fix; the URL is never printed. */
const connectReason = (lastError: unknown, setting: string): string => {
  const code = replyCode(lastError)
  if (code === "WRONGPASS" || code === "NOAUTH") {
    return `Redis refused the user name or password (${code}); fix them in ${setting}`
  }
  if (code !== undefined) return `Redis answered with an error (${code}); check ${setting} and the server`
  return serverReason(lastError, setting, undefined).replace(/^no connection \(/, "no connection to Redis (")
}

const invalidUrl = (setting: string) =>
  new StoreError({
    operation: "connect",
    reason: `${setting} is not a redis:// or rediss:// URL (not shown, as it may hold a password); set it to ` +
      "redis://user:password@host:port/db"
  })

// Checked before the client sees it: ioredis throws on some malformed URLs and reads others as a host name.
const redisUrl = (url: Redacted.Redacted, setting: string): Effect.Effect<URL, StoreError> =>
  Effect.filterOrFail(
    Effect.mapError(parseUrl(url, setting), () => invalidUrl(setting)),
    (parsed) => parsed.protocol === "redis:" || parsed.protocol === "rediss:",
    () => invalidUrl(setting)
  )

/**
 * A connected client, closed with the scope. While the connection is down, commands fail at once (no offline
 * queue) rather than wait, and a command whose answer was lost is never sent again behind its caller's back
 * (its caller already has a `StoreError`); the client keeps reconnecting in the background.
 */
export const connect = (settings: Settings, setting: string): Effect.Effect<Redis, StoreError, Scope.Scope> =>
  Effect.flatMap(redisUrl(settings.url, setting), () =>
    Effect.acquireRelease(
      Effect.suspend(() => {
        let lastError: unknown = undefined
        const redis = new Redis(Redacted.value(settings.url), {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          autoResendUnfulfilledCommands: false,
          connectTimeout: Duration.toMillis(settings.connectTimeout),
          commandTimeout: Duration.toMillis(settings.commandTimeout),
          connectionName: settings.connectionName
        })
        // Errors reach the callers as failed commands; the listener keeps ioredis from printing each one, and keeps
        // the last for the start-up failure (`connect` itself rejects with a bare "Connection is closed").
        redis.on("error", (error: unknown) => {
          lastError = error
        })
        return Effect.tryPromise({
          try: () => redis.connect(),
          catch: (cause) => {
            redis.disconnect()
            return new StoreError({
              operation: "connect",
              reason: connectReason(lastError ?? cause, setting),
              cause: lastError ?? cause
            })
          }
        }).pipe(Effect.as(redis), Effect.onInterrupt(() => Effect.sync(() => redis.disconnect())))
      }),
      (redis) => Effect.promise(() => redis.quit().catch(() => redis.disconnect()))
    ))

/** Whether `value` is a Redis integer reply. */
export const isInteger = (value: unknown): value is number => Predicate.isNumber(value) && Number.isInteger(value)
