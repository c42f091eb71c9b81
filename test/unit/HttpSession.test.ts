/**
 * `userharbor/http`'s reading of the session cookie: exactly one cookie by the name, read as the platform's cookie
 * parser reads a value.
 */
import * as Cookies from "@effect/platform/Cookies"
import { assert, describe, it } from "@effect/vitest"
import { HttpSession } from "../../src/http.js"

const name = "__Host-session"

describe("HttpSession.tokenFromHeader", () => {
  it("reads the one cookie by its name among others", () => {
    assert.strictEqual(HttpSession.tokenFromHeader(`${name}=abc`, name), "abc")
    assert.strictEqual(HttpSession.tokenFromHeader(`theme=dark; ${name}=abc; lang=en`, name), "abc")
    assert.strictEqual(HttpSession.tokenFromHeader(`theme=dark;${name} = abc ;lang=en`, name), "abc")
  })

  it("refuses none, an empty one, and two of the name (cookie tossing)", () => {
    assert.strictEqual(HttpSession.tokenFromHeader(undefined, name), undefined)
    assert.strictEqual(HttpSession.tokenFromHeader("", name), undefined)
    assert.strictEqual(HttpSession.tokenFromHeader("session=abc; __Host-sessionx=abc", name), undefined)
    assert.strictEqual(HttpSession.tokenFromHeader(`${name}=`, name), undefined)
    assert.strictEqual(HttpSession.tokenFromHeader(`${name}=abc; ${name}=def`, name), undefined)
    assert.strictEqual(HttpSession.tokenFromHeader(`${name}; ${name}=def`, name), undefined)
    assert.strictEqual(HttpSession.tokenFromHeader(`${name}`, name), undefined)
  })

  it("reads a value as the platform's parser does: quotes, spaces, percent-encoding", () => {
    for (
      const value of ["abc", "\"abc\"", " abc ", "a%20b", "a%zzb", "a=b", "\"a b\""]
    ) {
      const header = `x=1; ${name}=${value}; y=2`
      assert.strictEqual(HttpSession.tokenFromHeader(header, name), Cookies.parseHeader(header)[name], value)
    }
  })
})
