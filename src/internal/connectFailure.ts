/**
 * One secret-free line for a store that fails to start: what is wrong, from the driver's error code and structured
 * fields (never its message, which can quote the URL, the user or SQL), and what to set. `setting` names what the
 * user controls: an environment variable (`USERHARBOR_DATABASE_URL`) or an option (`the url option`).
 */
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import { StoreError } from "../Errors.js"
import { driverErrorCode } from "./errorCode.js"

/** The error and the errors below it (`SqlError` → the driver's error), nearest first. */
const chain = (u: unknown): ReadonlyArray<unknown> => {
  const out: Array<unknown> = []
  let current = u instanceof StoreError ? u.unsafeDriverError() : u
  while (current !== undefined && current !== null && out.length < 8) {
    out.push(current)
    current = current instanceof StoreError
      ? current.unsafeDriverError()
      : Predicate.hasProperty(current, "cause")
      ? current.cause
      : undefined
  }
  return out
}

const field = (u: unknown, key: string): string | undefined => {
  if (!Predicate.hasProperty(u, key)) return undefined
  const value = u[key]
  return Predicate.isString(value) || Predicate.isNumber(value) ? String(value) : undefined
}

// Codes and host names are printed, so only ones that look like them: nothing else can slip into the line.
const code = (u: unknown): string | undefined => {
  const value = driverErrorCode(u)
  return value !== undefined && /^[A-Z0-9_]{1,40}$/.test(value) ? value : undefined
}
const hostLike = (value: string | undefined): string | undefined =>
  value !== undefined && /^[A-Za-z0-9.:[\]_-]{1,255}$/.test(value) ? value : undefined

/** The first driver error code below `cause`, with the error that carries it. */
export const driverCode = (cause: unknown): { readonly code: string; readonly error: unknown } | undefined => {
  for (const error of chain(cause)) {
    const found = code(error)
    if (found !== undefined) return { code: found, error }
  }
  return undefined
}

const quoted = (name: string): string => JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name)

/**
 * Why a PostgreSQL or MySQL-family server could not be used. `database` is the database name from the URL (not a
 * secret); the URL itself, the user and the password are never printed.
 */
export const serverReason = (cause: unknown, setting: string, database: string | undefined): string => {
  const found = driverCode(cause)
  if (found === undefined) {
    return `no connection (the server did not answer within the connect timeout, or closed the connection); check that it runs and ${setting}`
  }
  const { error } = found
  const db = database === undefined || database === "" ? "the database" : `database ${quoted(database)}`
  switch (found.code) {
    case "ECONNREFUSED": {
      const address = hostLike(field(error, "address"))
      const port = field(error, "port")
      const where = address === undefined ? "the host and port" : `${address}${port === undefined ? "" : `:${port}`}`
      return `nothing listens on ${where} (ECONNREFUSED); start the server or fix the host and port in ${setting}`
    }
    case "ENOTFOUND":
    case "EAI_AGAIN": {
      const host = hostLike(field(error, "hostname"))
      return `host ${host === undefined ? "" : `${quoted(host)} `}not found (${found.code}); fix the host in ${setting}`
    }
    case "ETIMEDOUT":
      return `no answer within the connect timeout (ETIMEDOUT); check that the server runs and the host and port in ${setting}`
    case "28P01":
    case "ER_ACCESS_DENIED_ERROR":
    case "ER_DBACCESS_DENIED_ERROR":
      return `the server refused the user name or password (${found.code}); fix them in ${setting}`
    case "28000":
      return `the server refused the user (28000: no such role, or pg_hba.conf does not allow it); fix the user in ${setting} or the server's access rules`
    case "3D000":
    case "ER_BAD_DB_ERROR":
      return `${db} does not exist (${found.code}); create it or fix the database name in ${setting}`
    default:
      return `the driver failed with ${found.code}; check ${setting} and the server`
  }
}

/** The URL is not one (it is not quoted: it holds the password). */
export const invalidUrlReason = (setting: string): string =>
  `${setting} is not a valid URL (not shown, as it may hold a password); set it to scheme://user:password@host:port/database`

/** The names `serverReason` gives the URL: `layer`'s option, `layerConfig`'s default variable, or an app's own. */
export const urlOption = "the url option"
export const urlVariable = "USERHARBOR_DATABASE_URL"
export const urlSetting = "the url setting"

/** Parses the server URL; a malformed one fails without being quoted. */
export const parseUrl = (url: Redacted.Redacted, setting: string): Effect.Effect<URL, StoreError> =>
  Effect.try({
    try: () => new URL(Redacted.value(url)),
    catch: (cause) => new StoreError({ operation: "connect", reason: invalidUrlReason(setting), cause })
  })

/** A failed connection as a `StoreError` whose reason names the database of `url` but not its credentials. */
export const connectFailure = (url: URL, setting: string) => (cause: unknown): StoreError =>
  cause instanceof StoreError ? cause : new StoreError({
    operation: "connect",
    reason: serverReason(cause, setting, databaseName(url)),
    cause
  })

const databaseName = (url: URL): string | undefined => {
  try {
    const name = decodeURIComponent(url.pathname.replace(/^\//, ""))
    return name === "" ? undefined : name
  } catch {
    return undefined
  }
}

/** Why the migrations failed, when the driver's code says (most often: the user may not create tables). */
export const migrateReason = (cause: unknown): string | undefined => {
  const found = driverCode(cause)
  if (found === undefined) return undefined
  switch (found.code) {
    case "42501":
    case "ER_TABLEACCESS_DENIED_ERROR":
    case "ER_DBACCESS_DENIED_ERROR":
    case "ER_SPECIFIC_ACCESS_DENIED_ERROR":
    case "SQLITE_READONLY":
      return `the database user may not create or change the tables (${found.code}); grant it that right, or run ` +
        "SqlMigrations once as the owner and build the store with layerWithoutMigrations"
    default:
      return `the database failed with ${found.code} while creating or updating the tables`
  }
}
