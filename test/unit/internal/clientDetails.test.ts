import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Queue } from "effect"
import * as ClientDetails from "../../../src/internal/clientDetails.js"
import * as SecurityEventRecorder from "../../../src/internal/securityEvents.js"
import * as MemoryUserStore from "../../../src/MemoryUserStore.js"
import * as SecureRandom from "../../../src/SecureRandom.js"
import { AnonymousThrottled } from "../../../src/SecurityEvent.js"
import type * as SecurityEvent from "../../../src/SecurityEvent.js"
import * as SecurityEvents from "../../../src/SecurityEvents.js"

const defaults = { ipv4Prefix: 24, ipv6Prefix: 48 }
const truncate = (address: string, prefixes = defaults) =>
  Option.getOrUndefined(ClientDetails.truncateAddress(address, prefixes))

describe("client details", () => {
  it("keeps an IPv4 address's network: /24 by default, any prefix from 1 to 32", () => {
    expect(truncate("203.0.113.77")).toBe("203.0.113.0/24")
    expect(truncate(" 198.51.100.255 ")).toBe("198.51.100.0/24")
    expect(truncate("203.0.113.77", { ...defaults, ipv4Prefix: 16 })).toBe("203.0.0.0/16")
    expect(truncate("203.0.113.77", { ...defaults, ipv4Prefix: 20 })).toBe("203.0.112.0/20")
    expect(truncate("203.0.113.77", { ...defaults, ipv4Prefix: 32 })).toBe("203.0.113.77/32")
    expect(truncate("255.255.255.255", { ...defaults, ipv4Prefix: 1 })).toBe("128.0.0.0/1")
  })

  it("keeps an IPv6 address's network: /48 by default, in RFC 5952 form", () => {
    expect(truncate("2001:db8:abcd:12:34:56:78:9")).toBe("2001:db8:abcd::/48")
    expect(truncate("2001:0DB8:ABCD:0012::1")).toBe("2001:db8:abcd::/48")
    expect(truncate("2001:db8:abcd:12::1", { ...defaults, ipv6Prefix: 64 })).toBe("2001:db8:abcd:12::/64")
    expect(truncate("2001:db8:abcd:12:ffff::1", { ...defaults, ipv6Prefix: 56 })).toBe("2001:db8:abcd::/56")
    expect(truncate("2001:db8:abcd:12ff::1", { ...defaults, ipv6Prefix: 56 })).toBe("2001:db8:abcd:1200::/56")
    expect(truncate("2001:db8:0:0:1:0:0:1", { ...defaults, ipv6Prefix: 128 })).toBe("2001:db8::1:0:0:1/128")
    expect(truncate("::1", { ...defaults, ipv6Prefix: 128 })).toBe("::1/128")
    expect(truncate("::1")).toBe("::/48")
    expect(truncate("[fe80::1%eth0]", { ...defaults, ipv6Prefix: 10 })).toBe("fe80::/10")
    expect(truncate("fe80::1%25eth0")).toBe("fe80::/48")
    expect(truncate("[2001:db8:abcd:12::1]:443")).toBe("2001:db8:abcd::/48")
    expect(truncate("203.0.113.7:5678")).toBe("203.0.113.0/24")
  })

  it("treats an IPv4-mapped IPv6 address as IPv4, in either notation", () => {
    expect(truncate("::ffff:203.0.113.77")).toBe("203.0.113.0/24")
    expect(truncate("::FFFF:cb00:714d")).toBe("203.0.113.0/24")
    expect(truncate("[::ffff:203.0.113.77]", { ...defaults, ipv4Prefix: 32 })).toBe("203.0.113.77/32")
    // An IPv4 tail elsewhere is an IPv6 address.
    expect(truncate("64:ff9b::203.0.113.77", { ...defaults, ipv6Prefix: 96 })).toBe("64:ff9b::/96")
  })

  it("drops what is not an address, and every address of a family whose prefix is 0", () => {
    for (
      const invalid of [
        "",
        "localhost",
        "203.0.113",
        "203.0.113.256",
        "1.2.3.4.5",
        "::ffff::1",
        "2001:db8:::1",
        "01.2.3.4",
        "1.2.3.4/24",
        "x".repeat(1000),
        "203.0.113.7:http",
        "[203.0.113.7",
        "unknown",
        "\u0000"
      ]
    ) {
      expect(truncate(invalid), invalid).toBeUndefined()
    }
    expect(Option.isNone(ClientDetails.truncateAddress(42, defaults))).toBe(true)
    expect(truncate("203.0.113.7", { ipv4Prefix: 0, ipv6Prefix: 48 })).toBeUndefined()
    expect(truncate("::ffff:203.0.113.7", { ipv4Prefix: 0, ipv6Prefix: 48 })).toBeUndefined()
    expect(truncate("2001:db8::1", { ipv4Prefix: 24, ipv6Prefix: 0 })).toBeUndefined()
  })

  it("cuts a user agent to 512 characters, without control characters or lone surrogates, and never refuses one", () => {
    const normalize = (userAgent: string) =>
      Option.flatMap(ClientDetails.normalize({ userAgent }, defaults), (stored) => stored.userAgent)
    expect(normalize("  Mozilla/5.0 (X11; Linux x86_64)  ")).toEqual(Option.some("Mozilla/5.0 (X11; Linux x86_64)"))
    expect(normalize("a\u0000b\r\nc\u007f")).toEqual(Option.some("a b c"))
    expect(normalize(`${"x".repeat(511)}\uD83D\uDE00`)).toEqual(Option.some(`${"x".repeat(511)}\uFFFD`))
    expect(normalize("\uDC00")).toEqual(Option.some("\uFFFD"))
    expect(Option.getOrThrow(normalize("é".repeat(5000))).length).toBe(ClientDetails.maxUserAgentLength)
    expect(normalize("   ")).toEqual(Option.none())
    expect(normalize("\u0000\u0001")).toEqual(Option.none())
  })

  it("keeps nothing when nothing usable was passed", () => {
    expect(ClientDetails.normalize(undefined, defaults)).toEqual(Option.none())
    expect(ClientDetails.normalize({}, defaults)).toEqual(Option.none())
    expect(ClientDetails.normalize({ userAgent: "", address: "not an address" }, defaults)).toEqual(Option.none())
    expect(ClientDetails.normalize({ address: "203.0.113.9" }, defaults)).toEqual(
      Option.some({ userAgent: Option.none(), address: Option.some("203.0.113.0/24") })
    )
  })

  it.effect("the events an operation of a client records carry its user agent and truncated address", () =>
    Effect.gen(function*() {
      const recorder = yield* SecurityEventRecorder.fromContext
      const feed = yield* SecurityEvents.SecurityEvents
      const received = yield* feed.subscribe
      const client = ClientDetails.normalize({ userAgent: "Mozilla/5.0", address: "2001:db8:abcd:1::7" }, defaults)
      const throttled = (common: SecurityEvent.AnonymousCommon) =>
        new AnonymousThrottled({ ...common, operation: "login" })
      yield* ClientDetails.within(client)(recorder.publish({}, throttled))
      yield* recorder.publish({}, throttled)
      yield* ClientDetails.within(client)(recorder.publish({ userAgent: "own" }, throttled))
      const [first, second, third] = yield* Queue.takeAll(received)
      expect([first?.userAgent, first?.address]).toEqual([
        Option.some("Mozilla/5.0"),
        Option.some("2001:db8:abcd::/48")
      ])
      expect([second?.userAgent, second?.address]).toEqual([Option.none(), Option.none()])
      expect([third?.userAgent, third?.address]).toEqual([Option.some("own"), Option.some("2001:db8:abcd::/48")])
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.mergeAll(MemoryUserStore.layer, SecureRandom.layer, SecurityEvents.layer()))
    ))
})
