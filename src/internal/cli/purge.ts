/**
 * `userharbor purge`: one run of the purge that `PurgeSchedule` runs in the background.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PurgeSchedule from "../../PurgeSchedule.js"
import { defaultUnverifiedAccountTtl } from "../../UserHarborConfig.js"
import * as Durations from "../durations.js"
import { json, url, withStore } from "./common.js"
import { UsageProblem } from "./exit.js"
import { result } from "./output.js"

const ttlVariable = "USERHARBOR_UNVERIFIED_ACCOUNT_TTL"

const batchSize = Options.integer("batch-size").pipe(
  Options.withDefault(1000),
  Options.withDescription("Rows per statement, so a backlog never holds one long lock.")
)

const unverifiedTtl = Options.text("unverified-ttl").pipe(
  Options.optional,
  Options.withDescription(
    `Delete unverified accounts created longer ago than this ("7 days"). Default: ${ttlVariable}, else 7 days.`
  )
)

// The same variable and the same rule as the app's `UserHarborConfig.layerConfig`.
const ttlFrom = (option: Option.Option<string>) =>
  Effect.gen(function*() {
    const fromEnv = yield* Config.option(Config.string(ttlVariable)).pipe(Effect.orElseSucceed(() => Option.none()))
    const [input, setting] = Option.isSome(option)
      ? [option.value, "--unverified-ttl"]
      : Option.isSome(fromEnv) && fromEnv.value !== ""
      ? [fromEnv.value, ttlVariable]
      : [defaultUnverifiedAccountTtl, "the default"]
    const refused = (message: string) => new UsageProblem({ message: `${setting}: ${message} ("7 days", "12 hours")` })
    const decoded = yield* Option.match(Duration.decodeUnknown(input), {
      onNone: () => Effect.fail(refused("not a duration")),
      onSome: Effect.succeed
    })
    return yield* Durations.positive([setting], decoded).pipe(
      Effect.mapError(() => refused("must be a positive, finite duration"))
    )
  })

export const purge = Command.make(
  "purge",
  { url, json, batchSize, unverifiedTtl },
  (options) =>
    Effect.gen(function*() {
      if (options.batchSize < 1) return yield* new UsageProblem({ message: "--batch-size must be 1 or more" })
      const ttl = yield* ttlFrom(options.unverifiedTtl)
      const removed = yield* withStore(options.url, PurgeSchedule.purgeAll(options.batchSize, ttl))
      yield* result(options.json, { removed }, () => [`removed ${removed} expired or unverified row(s)`])
    })
).pipe(Command.withDescription(
  "Deletes expired sessions, tokens and second-factor challenges, and unverified accounts past their time."
))
