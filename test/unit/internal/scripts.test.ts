import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { isHighlyRestrictive, scriptCodes } from "../../../src/internal/scripts.js"
import * as Username from "../../../src/Username.js"

describe("scripts", () => {
  it("lists only script codes the regular expression engine knows", () => {
    for (const code of scriptCodes) expect(() => new RegExp(`\\p{Script_Extensions=${code}}`, "u"), code).not.toThrow()
    expect(new Set(scriptCodes).size).toBe(scriptCodes.length)
  })

  it("covers every letter, mark and digit that has a script the engine can name", () => {
    const known = new RegExp(
      `[${["Zyyy", "Zinh", ...scriptCodes].map((code) => `\\p{Script_Extensions=${code}}`).join("")}]`,
      "u"
    )
    const scripts = new RegExp(`\\p{Script=Unknown}`, "u")
    const wordlike = /[\p{L}\p{M}\p{N}]/u
    const uncovered: Array<number> = []
    for (let point = 0; point <= 0x10FFFF; point++) {
      if (point >= 0xD800 && point <= 0xDFFF) continue
      const char = String.fromCodePoint(point)
      if (wordlike.test(char) && !known.test(char) && !scripts.test(char)) uncovered.push(point)
    }
    // Scripts new in the engine's Unicode data whose names its property escapes do not take yet (Unicode 17's
    // Sidetic and others in Node 20): their letters are refused, never mis-scripted.
    expect(uncovered.length).toBeLessThanOrEqual(200)
    for (const point of uncovered.slice(0, 20)) {
      const name = String.fromCodePoint(point).repeat(3)
      expect(isHighlyRestrictive(name)).toBe(false)
      expect(Either.isLeft(Username.validate(name))).toBe(true)
    }
  })
})
