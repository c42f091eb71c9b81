/**
 * Sessions a person can recognise: the client details `login` is given are kept with the session (the address cut
 * to its network) and `listSessions` names the device; without details, or without a store that provides
 * `SessionDeviceStore`, everything is as before. On memory, SQLite, and PostgreSQL and MariaDB when their URLs are
 * set. `completeLogin` and `finishPasskeyLogin` are covered by their own suites.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Queue, Redacted, TestClock } from "effect"
import type { CounterStore } from "../../src/CounterStore.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import type { OutboxStore } from "../../src/OutboxStore.js"
import * as SecurityEvents from "../../src/SecurityEvents.js"
import { SessionDeviceStore } from "../../src/SessionDeviceStore.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import type { UserStore } from "../../src/UserStore.js"
import { alice, bob, lastToken, loggedIn, newPassword, password, registerVerified } from "../support/fixtures.js"
import { describeOn, mysqlStore, pgStore } from "../support/sqlDatabases.js"

const firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
const iphone =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
const noDevice = { label: "Unknown device", userAgent: Option.none(), address: Option.none() }

// A minute apart, so the sessions' order (by creation) is the order of the logins.
const logIn = (client: { readonly userAgent?: string; readonly address?: string } | undefined) =>
  Effect.zipRight(
    TestClock.adjust("1 minute"),
    Effect.flatMap(UserHarbor, (h) => h.login({ username: alice.username, password, client }))
  )

const devicesOf = (token: Redacted.Redacted<string>) =>
  Effect.flatMap(UserHarbor, (h) => Effect.map(h.listSessions(token), (all) => all.map((s) => s.device)))

const sessionDevicesSuite = <E>(
  name: string,
  makeStore: () => Layer.Layer<UserStore | CounterStore | OutboxStore | SessionDeviceStore, E>
) =>
  describe(`session devices (${name})`, () => {
    const test = <A, E2>(
      title: string,
      options: Partial<UserHarborConfig.Options>,
      body: () => Effect.Effect<A, E2, UserHarborTest.StoreServices | SessionDeviceStore>
    ) => it.effect(title, () => Effect.provide(body(), UserHarborTest.layerWithStore(makeStore(), options)))

    test("listSessions names each device and shows its network, never the full address", {}, () =>
      Effect.gen(function*() {
        yield* registerVerified(alice)
        const desktop = yield* logIn({ userAgent: firefox, address: "203.0.113.77" })
        const phone = yield* logIn({ userAgent: iphone, address: "2001:db8:abcd:12::1" })
        const bare = yield* logIn(undefined)
        const mapped = yield* logIn({ address: "::ffff:198.51.100.23" })
        expect(yield* devicesOf(phone.token)).toEqual([
          { label: "Firefox on Windows", userAgent: Option.some(firefox), address: Option.some("203.0.113.0/24") },
          { label: "Safari on iOS", userAgent: Option.some(iphone), address: Option.some("2001:db8:abcd::/48") },
          noDevice,
          { label: "Unknown device", userAgent: Option.none(), address: Option.some("198.51.100.0/24") }
        ])
        const sessions = yield* Effect.flatMap(UserHarbor, (h) =>
          h.listSessions(desktop.token))
        expect(sessions.map((s) =>
          s.id
        )).toEqual([desktop.id, phone.id, bare.id, mapped.id])
        const dump = JSON.stringify(sessions)
        for (const full of ["203.0.113.77", "2001:db8:abcd:12::1", "198.51.100.23"]) expect(dump).not.toContain(full)
        // Another user's list shows none of them.
        const bobs = yield* loggedIn(bob)
        expect(yield* devicesOf(bobs.token)).toEqual([noDevice])
      }))

    test("what cannot be kept is dropped, and the login succeeds", {}, () =>
      Effect.gen(function*() {
        yield* registerVerified(alice)
        const session = yield* logIn({ userAgent: "  ", address: "not-an-address" })
        yield* logIn({ userAgent: `${"x".repeat(600)}\u0000`, address: "203.0.113" })
        const [first, second] = yield* devicesOf(session.token)
        expect(first).toEqual(noDevice)
        expect(second?.userAgent).toEqual(Option.some("x".repeat(512)))
        expect(second?.address).toEqual(Option.none())
      }))

    test("the address is cut to the configured prefixes", { sessionDevices: { ipv4Prefix: 16, ipv6Prefix: 32 } }, () =>
      Effect.gen(function*() {
        yield* registerVerified(alice)
        const session = yield* logIn({ address: "203.0.113.77" })
        yield* logIn({ address: "2001:db8:abcd:12::1" })
        expect((yield* devicesOf(session.token)).map((device) =>
          device.address
        )).toEqual([
          Option.some("203.0.0.0/16"),
          Option.some("2001:db8::/32")
        ])
      }))

    test("a session's details go with it when the per-user cap ends it", { maxSessionsPerUser: 2 }, () =>
      Effect.gen(function*() {
        const devices = yield* SessionDeviceStore
        yield* registerVerified(alice)
        const first = yield* logIn({ userAgent: firefox })
        yield* logIn({ userAgent: iphone })
        const third = yield* logIn({ userAgent: firefox, address: "203.0.113.1" })
        expect(yield* devices.findSessionDevice(first.id)).toEqual(Option.none())
        expect((yield* devicesOf(third.token)).map((device) =>
          device.label
        )).toEqual([
          "Safari on iOS",
          "Firefox on Windows"
        ])
      }))

    test("the session changePassword starts in place of the current one keeps its device", {}, () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        yield* registerVerified(alice)
        const session = yield* logIn({ userAgent: iphone, address: "203.0.113.77" })
        const fresh = yield* h.changePassword({ sessionToken: session.token, oldPassword: password, newPassword })
        expect(yield* devicesOf(fresh.token)).toEqual([
          { label: "Safari on iOS", userAgent: Option.some(iphone), address: Option.some("203.0.113.0/24") }
        ])
      }))
  })

sessionDevicesSuite("memory", () => MemoryUserStore.layer)
sessionDevicesSuite("sqlite :memory:", () => SqliteUserStore.layer({ filename: ":memory:" }))
describeOn("pg", "session devices", (url) => {
  sessionDevicesSuite("postgres", () => pgStore(url))
})
describeOn("mysql", "session devices", (url) => {
  sessionDevicesSuite("mysql", () => mysqlStore(url))
})

describe("session devices in the security events", () => {
  it.effect("the events of register and login carry the client's user agent and truncated address", () =>
    Effect.gen(function*() {
      const feed = yield* SecurityEvents.SecurityEvents
      const received = yield* feed.subscribe
      const h = yield* UserHarbor
      const client = { userAgent: firefox, address: "2001:db8:abcd:12::1" }
      yield* h.register({ ...alice, client })
      yield* h.verifyEmail(yield* lastToken("VerificationEmail", alice.email))
      yield* Effect.flip(h.login({ username: alice.username, password: "not the password", client }))
      yield* h.login({ username: alice.username, password, client })
      yield* h.login({ username: alice.username, password })
      const events = yield* Queue.takeAll(received)
      const seen = Array.from(events, (event) => [event._tag, event.userAgent, event.address])
      const details = [Option.some(firefox), Option.some("2001:db8:abcd::/48")]
      expect(seen).toContainEqual(["Registered", ...details])
      expect(seen).toContainEqual(["LoginFailed", ...details])
      expect(seen).toContainEqual(["LoginSucceeded", ...details])
      // The login without details: its event has none.
      expect(seen.at(-1)).toEqual(["LoginSucceeded", Option.none(), Option.none()])
      expect(JSON.stringify(seen)).not.toContain("2001:db8:abcd:12::1")
    }).pipe(
      Effect.scoped,
      Effect.provide(
        UserHarborTest.layerWithStore(MemoryUserStore.layer).pipe(
          Layer.provideMerge(SecurityEvents.layer())
        )
      )
    ))
})

describe("session devices without the port", () => {
  // A store written before 0.3.0: the memory store without its `SessionDeviceStore`.
  const withoutPort = Layer.map(MemoryUserStore.layer, Context.omit(SessionDeviceStore))

  it.effect("logins with client details work as before, and every device is unknown", () =>
    Effect.gen(function*() {
      yield* registerVerified(alice)
      const session = yield* logIn({ userAgent: firefox, address: "203.0.113.77" })
      expect(yield* devicesOf(session.token)).toEqual([noDevice])
    }).pipe(Effect.provide(UserHarborTest.layerWithStore(withoutPort))))
})

describe("session device settings", () => {
  const secretKey = Redacted.make("k".repeat(32))

  it.effect("default to /24 and /48, and refuse prefixes no address has", () =>
    Effect.gen(function*() {
      expect((yield* UserHarborConfig.make({ secretKey })).sessionDevices).toEqual({ ipv4Prefix: 24, ipv6Prefix: 48 })
      for (const sessionDevices of [{ ipv4Prefix: 33 }, { ipv6Prefix: 129 }, { ipv4Prefix: -1 }, { ipv6Prefix: 1.5 }]) {
        const error = yield* Effect.flip(UserHarborConfig.make({ secretKey, sessionDevices }))
        expect(String(error)).toContain("sessionDevices")
      }
    }))
})
