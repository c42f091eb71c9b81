/**
 * Which database the CLI works on: `--url`, else the variables the store modules' `layerConfig` read
 * (`USERHARBOR_DATABASE_URL` for PostgreSQL and MariaDB/MySQL, `USERHARBOR_SQLITE_FILENAME` for SQLite). The URL
 * is never printed: it usually holds a password.
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { urlVariable } from "../connectFailure.js"
import { UsageProblem } from "./exit.js"

export const sqliteVariable = "USERHARBOR_SQLITE_FILENAME"

export type Target =
  | { readonly _tag: "Sqlite"; readonly filename: string; readonly setting: string }
  | { readonly _tag: "Pg" | "Mysql"; readonly url: Redacted.Redacted; readonly setting: string }

const urlOption = "--url"

const fromUrl = (url: Redacted.Redacted, setting: string): Effect.Effect<Target, UsageProblem> => {
  const value = Redacted.value(url)
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase()
  switch (scheme) {
    case "postgres":
    case "postgresql":
      return Effect.succeed({ _tag: "Pg", url, setting })
    case "mysql":
      return Effect.succeed({ _tag: "Mysql", url, setting })
    case "sqlite": {
      // `sqlite:users.db`, `sqlite://users.db` and `sqlite:///var/lib/app/users.db` all name a file.
      const filename = value.slice("sqlite:".length).replace(/^\/\//, "")
      return filename === ""
        ? Effect.fail(new UsageProblem({ message: `${setting} names no SQLite file (sqlite:PATH)` }))
        : Effect.succeed({ _tag: "Sqlite", filename, setting })
    }
    default:
      return Effect.fail(
        new UsageProblem({
          message: `${setting} must start with postgres://, postgresql://, mysql:// or sqlite: ` +
            "(the value is not shown, as it may hold a password)"
        })
      )
  }
}

const nonEmpty = <A>(config: Config.Config<A>, isEmpty: (a: A) => boolean) =>
  Config.option(config).pipe(Config.map(Option.filter((a) => !isEmpty(a))))

const fromEnv = Config.all({
  url: nonEmpty(Config.redacted(urlVariable), (url) => Redacted.value(url) === ""),
  filename: nonEmpty(Config.string(sqliteVariable), (name) => name === "")
})

/** The database from `--url` when given, else from the environment; a usage problem when there is none or two. */
export const resolve = (url: Option.Option<Redacted.Redacted>): Effect.Effect<Target, UsageProblem> =>
  Option.match(url, {
    onSome: (value) => fromUrl(value, urlOption),
    onNone: () =>
      fromEnv.pipe(
        Effect.mapError((error) => new UsageProblem({ message: `cannot read the environment: ${error.message}` })),
        Effect.flatMap(({ filename, url }) =>
          Option.isSome(url) && Option.isSome(filename)
            ? Effect.fail(
              new UsageProblem({
                message: `both ${urlVariable} and ${sqliteVariable} are set: unset one, or pass --url`
              })
            )
            : Option.isSome(url)
            ? fromUrl(url.value, urlVariable)
            : Option.isSome(filename)
            ? Effect.succeed<Target>({ _tag: "Sqlite", filename: filename.value, setting: sqliteVariable })
            : Effect.fail(
              new UsageProblem({
                message: `no database: pass --url, or set ${urlVariable} (postgres://…, mysql://…) or ${sqliteVariable}`
              })
            )
        )
      )
  })
