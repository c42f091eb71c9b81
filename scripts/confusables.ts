// Regenerates src/internal/confusablesData.ts from the `unhomoglyph` dev dependency: `npx tsx scripts/confusables.ts`.
import { writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { confusablesSource, deriveConfusables } from "../src/internal/confusablesSource.js"

const source: Record<string, string> = createRequire(import.meta.url)("unhomoglyph/data.json")
writeFileSync(
  new URL("../src/internal/confusablesData.ts", import.meta.url),
  confusablesSource(deriveConfusables(source))
)
