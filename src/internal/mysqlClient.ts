/**
 * The MariaDB/MySQL client of `MysqlUserStore` with the failure line naming what the user sets (`setting`): an
 * option, `USERHARBOR_DATABASE_URL`, or the CLI's `--url`. Shared by the store module and the operator CLI.
 */
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as EffectTypes from "../EffectTypes.js"
import type { StoreError } from "../Errors.js"
import { connectFailure, parseUrl } from "./connectFailure.js"
import { wholeMillis } from "./durations.js"

export interface ClientOptions {
  readonly url: Redacted.Redacted
  readonly maxConnections?: number | undefined
  readonly connectTimeout?: EffectTypes.DurationInput | undefined
}

// The URL is parsed to add the timeout; a malformed one is reported without quoting it (it holds a password).
const withTimeout = (options: ClientOptions, setting: string) =>
  Effect.map(parseUrl(options.url, setting), (url) => {
    if (!url.searchParams.has("connectTimeout")) {
      const millis = wholeMillis(options.connectTimeout ?? "5 seconds")
      url.searchParams.set("connectTimeout", String(millis))
    }
    return url
  })

export const clientLayer = (
  options: ClientOptions,
  setting: string
): Layer.Layer<MysqlClient.MysqlClient | SqlClient.SqlClient, StoreError> =>
  Layer.unwrapEffect(
    Effect.map(withTimeout(options, setting), (url) =>
      MysqlClient.layer({ url: Redacted.make(url.toString()), maxConnections: options.maxConnections ?? 10 }).pipe(
        Layer.mapError(connectFailure(url, setting))
      ))
  )
