import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { passkeyOptions, suite } from "../suites/PasskeysSuite.js"

suite("memory", () => UserHarborTest.layerWith({ passkeys: passkeyOptions }))

describe("passkey config", () => {
  const build = (passkeys: UserHarborConfig.PasskeyOptions) =>
    UserHarborConfig.make({ secretKey: UserHarborTest.testSecretKey, passkeys })
  it.effect("accepts origins on the rpId and its subdomains, localhost over http", () =>
    Effect.gen(function*() {
      const settings = yield* build({
        rpId: "localhost",
        rpName: "Dev",
        origins: ["http://localhost:5173"]
      })
      expect(settings.passkeys?.origins).toEqual(["http://localhost:5173"])
      yield* build({ ...passkeyOptions, origins: ["https://example.com", "https://a.b.example.com:8443"] })
    }))
  it.effect.each(
    [
      ["rpId with a scheme", { ...passkeyOptions, rpId: "https://example.com" }],
      ["empty rpName", { ...passkeyOptions, rpName: " " }],
      ["no origins", { ...passkeyOptions, origins: [] }],
      ["an origin with a path", { ...passkeyOptions, origins: ["https://example.com/login"] }],
      ["http off localhost", { ...passkeyOptions, origins: ["http://example.com"] }],
      ["an origin on another domain", { ...passkeyOptions, origins: ["https://notexample.com"] }],
      ["a zero challenge ttl", { ...passkeyOptions, challengeTtl: "0 seconds" }]
    ] as const
  )("refuses %s", ([, options]) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(build(options))
      expect(Exit.isFailure(exit)).toBe(true)
    }))

  it.effect("passkey operations without the config are a defect naming the option", () =>
    Effect.gen(function*() {
      const { UserHarbor } = yield* Effect.promise(() => import("../../src/UserHarbor.js"))
      const exit = yield* Effect.exit(Effect.flatMap(UserHarbor, (harbor) => harbor.beginPasskeyLogin()))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("passkeys")
    }).pipe(Effect.provide(UserHarborTest.layer)))
})
