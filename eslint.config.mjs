// Lint and format as the Effect packages do: typescript-eslint's recommended rules and dprint through
// @effect/eslint-plugin (the Effect repository's formatting options).
import * as effectEslint from "@effect/eslint-plugin"
import eslint from "@eslint/js"
import globals from "globals"
import tseslint from "typescript-eslint"

export default tseslint.config(
  {
    ignores: [
      "**/dist",
      "**/node_modules",
      "**/.scratch",
      "**/test-results",
      "**/bench/results",
      "**/docs/api",
      "**/api-docs"
    ]
  },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  ...effectEslint.configs.dprint,
  { files: ["**/*.mjs", "**/*.cjs"], languageOptions: { globals: globals.node } },
  { files: ["examples/**/public/**/*.js"], languageOptions: { globals: globals.browser } },
  {
    rules: {
      // control characters are what the header and terminal guards look for
      "no-control-regex": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Effect's generators yield services and errors; an empty object type names a tag's service shape
      "require-yield": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-namespace": "off",
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }]
    }
  }
)
