import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { skeleton } from "../../../src/internal/confusables.js"
import { table } from "../../../src/internal/confusablesData.js"
import { confusablesSource, deriveConfusables } from "../../../src/internal/confusablesSource.js"

const source: Record<string, string> = createRequire(import.meta.url)("unhomoglyph/data.json")

describe("confusables", () => {
  it("equals the table derived from unhomoglyph, and the committed file is what the generator writes", () => {
    expect(table).toBe(deriveConfusables(source))
    const committed = readFileSync(new URL("../../../src/internal/confusablesData.ts", import.meta.url), "utf8")
    expect(committed).toBe(confusablesSource(table))
  })

  it("holds Unicode's 6,000+ mappings and gives UTS #39 skeletons", () => {
    expect(table.split("\n").length).toBeGreaterThanOrEqual(6_000)
    expect(skeleton("\u0430")).toBe("a")
    expect(skeleton("m")).toBe("rn")
    expect(skeleton("0")).toBe("O")
    expect(skeleton("paypal")).toBe(skeleton("p\u0430yp\u0430l"))
    expect(skeleton("alice")).toBe("alice")
    expect(skeleton("\u00E9")).toBe("e\u0301")
  })
})
