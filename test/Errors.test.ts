import { describe, expect, it } from "@effect/vitest"
import { Cause } from "effect"
import { inspect } from "node:util"
import { StoreError } from "../src/Errors.js"

describe("StoreError", () => {
  // A driver error can quote bind parameters (token hashes) or a connection string with its password.
  const cause = new Error("insert failed for 9f86d081884c7d65 at postgres://app:hunter2@db/prod")
  const error = new StoreError({ operation: "insertSession", cause })

  it("keeps the cause for debugging", () => {
    expect(error.cause).toBe(cause)
  })

  it.each([
    ["String", () => String(error)],
    ["message", () => error.message],
    ["JSON", () => JSON.stringify(error)],
    ["util.inspect", () => inspect(error, { depth: 10 })],
    ["Cause.pretty", () => Cause.pretty(Cause.fail(error))]
  ])("never prints it through %s", (_, render) => {
    const text = render()
    expect(text).toContain("insertSession")
    expect(text).not.toContain("9f86d081884c7d65")
    expect(text).not.toContain("hunter2")
  })
})
