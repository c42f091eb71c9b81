import * as ConfigError from "effect/ConfigError"

/**
 * Renames the paths of a `make`'s option errors (`secretKey`, `from.address`) to the environment variables its
 * `fromEnv` reads them from, so that a `layerConfig` failure names what the user has to set.
 */
export const toVariables = (names: Readonly<Record<string, string>>) => {
  const rename = (error: ConfigError.ConfigError): ConfigError.ConfigError => {
    switch (error._op) {
      case "And":
        return ConfigError.And(rename(error.left), rename(error.right))
      case "Or":
        return ConfigError.Or(rename(error.left), rename(error.right))
      case "InvalidData": {
        const variable = names[error.path.join(".")]
        return variable === undefined ? error : ConfigError.InvalidData([variable], error.message)
      }
      default:
        return error
    }
  }
  return rename
}
