/**
 * A session's device as a person names it ("Chrome on Linux", "Safari on iOS"), read from its user agent by
 * `bowser`, a maintained parser (MIT). `bowser` is an optional dependency, loaded on first use, so the core entry
 * never loads it and an app that stores no user agents need not install it; without it every label is the honest
 * `unknownDevice`.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** What a session without a user agent, or with one nobody can read, is called. */
export const unknownDevice = "Unknown device"

/**
 * What is used of `bowser`'s `parse`, written out so that no declaration of this module names the optional package
 * (a project without it must still type-check ours).
 */
export type Parse = (userAgent: string) => {
  readonly browser: { readonly name?: unknown }
  readonly os: { readonly name?: unknown }
}

// Node caches the module: later calls resolve at once. A missing module is no error: the labels fall back.
const parser: Effect.Effect<Option.Option<Parse>> = Effect.tryPromise(() => import("bowser")).pipe(
  Effect.map((bowser) => Option.some(bowser.parse)),
  Effect.orElseSucceed(() => Option.none<Parse>())
)

// bowser names some families in full; the short name is the one people say.
const shorter: ReadonlyMap<string, string> = new Map([
  ["Microsoft Edge", "Edge"],
  ["Samsung Internet for Android", "Samsung Internet"]
])

const nonEmpty = (name: unknown): string | undefined => typeof name === "string" && name !== "" ? name : undefined

/** The label of `userAgent` with `parse` (or none: `unknownDevice`). */
export const labelWith = (parse: Option.Option<Parse>) => (userAgent: Option.Option<string>): string => {
  if (Option.isNone(parse) || Option.isNone(userAgent)) return unknownDevice
  let result: ReturnType<Parse>
  try {
    result = parse.value(userAgent.value)
  } catch {
    return unknownDevice
  }
  // bowser answers "" or null (against its types) for what it does not recognise.
  const browser = nonEmpty(result.browser.name)
  const os = nonEmpty(result.os.name)
  const named = browser === undefined ? undefined : shorter.get(browser) ?? browser
  if (named !== undefined && os !== undefined) return `${named} on ${os}`
  return named ?? (os === undefined ? unknownDevice : `${os} device`)
}

/**
 * A labeller for a batch of user agents: the parser is loaded only when one of them has a user agent.
 */
export const labeller = (
  userAgents: ReadonlyArray<Option.Option<string>>
): Effect.Effect<(userAgent: Option.Option<string>) => string> =>
  userAgents.some(Option.isSome) ? Effect.map(parser, labelWith) : Effect.succeed(labelWith(Option.none()))
