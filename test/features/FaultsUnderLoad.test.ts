/**
 * Faults under load, at the library level: two app instances (processes, `support/instances.ts`) on a private
 * PostgreSQL server that this test starts, serving a closed-loop mix of session checks, logins and registrations.
 * The server is stopped at once (as in a crash) and started again; separately, one instance is killed; and with
 * the throttling counters on a private Redis server, that server is killed and started again. On a private MariaDB
 * server (`MysqlUserStore`, no session cache), that server is killed and started again. The bounds
 * here are generous (a loaded 2-core CI machine); `bench/faults.ts` measures the figures published in
 * docs/deployment.md.
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  databaseRestart,
  instanceKill,
  mariadb,
  postgres,
  processes,
  redisRestart,
  type Server
} from "../support/faults.js"
import { describeRedis } from "../support/redisServer.js"
import { describeOn } from "../support/sqlDatabases.js"

const timing = { warmMs: 2_000, outageMs: 3_000, afterMs: 8_000, clients: 3 }

const onlyOk = (outcomes: Record<string, Record<string, number>>) =>
  Object.values(outcomes).flatMap((tags) => Object.keys(tags).filter((tag) => tag !== "ok"))

/** The database server stopped under load and started again: what the instances must have done. */
const databaseRestartHandled = (server: Server) =>
  Effect.gen(function*() {
    const { accounts, outage, requests } = yield* databaseRestart(timing, processes, server)
    console.log(`database restart: ${requests} requests, ${JSON.stringify({ outage, accounts })}`)
    // Every request started while the server was down failed with StoreError, and none hung.
    expect(Object.keys(outage.during)).toEqual(["check", "login", "register"])
    for (const tags of Object.values(outage.during)) expect(Object.keys(tags)).toEqual(["StoreError"])
    expect(outage.longestDuring).toBeLessThan(15_000)
    // Every operation succeeded again on both instances within seconds, without restarting them.
    for (const resumed of outage.resume) {
      for (const ms of Object.values(resumed)) expect(ms).toBeLessThan(5_000)
    }
    // A login cut off by the outage after its counter reservations keeps them (it counts as a failed guess), so
    // right after the return a few concurrent logins of an account may be refused: never a StoreError though.
    expect(onlyOk({ ...outage.after, login: {} })).toEqual([])
    expect(Object.keys(outage.after["login"] ?? {}).filter((tag) => tag !== "TooManyAttempts")).toEqual(["ok"])
    expect(accounts.registered).toBeGreaterThan(0)
    expect(accounts.missing).toBe(0)
    expect(accounts.halfWritten).toBe(0)
  })

// The shared server is only the sign that CI runs PostgreSQL tests; the test starts a server of its own.
describeOn("pg", "faults under load", () => {
  it.live(
    "the database server restarted mid-run: StoreError in bounded time, then service resumes, no registration lost",
    () => databaseRestartHandled(postgres),
    60_000
  )

  it.live(
    "one instance killed mid-run: the other serves on, no registration lost or half written",
    () =>
      Effect.gen(function*() {
        const { accounts, killed, requests, survivor, survivorLongestAfter } = yield* instanceKill({
          ...timing,
          afterMs: 4_000
        })
        console.log(`instance kill: ${requests} requests, ${JSON.stringify({ survivor, killed, accounts })}`)
        expect(onlyOk(survivor)).toEqual([])
        expect(survivorLongestAfter).toBeLessThan(5_000)
        expect(onlyOk(killed).every((tag) => tag === "Exited")).toBe(true)
        expect(accounts.missing).toBe(0)
        expect(accounts.halfWritten).toBe(0)
      }),
    60_000
  )
})

// The shared Redis server is only the sign that CI runs Redis tests (and has redis-server); this starts its own.
describeOn("pg", "accounts, counters on Redis", () =>
  describeRedis("stopped under load", () => {
    it.live(
      "the counters' Redis killed mid-run: logins and registrations fail closed with StoreError, checks go on",
      () =>
        Effect.gen(function*() {
          const { accounts, outage, requests } = yield* redisRestart(timing)
          console.log(`redis restart: ${requests} requests, ${JSON.stringify({ outage, accounts })}`)
          // Fail closed: no login or registration goes unthrottled; session checks never touch the counters.
          expect(outage.during).toEqual({
            check: { ok: expect.any(Number) },
            login: { StoreError: expect.any(Number) },
            register: { StoreError: expect.any(Number) }
          })
          expect(outage.longestDuring).toBeLessThan(15_000)
          for (const resumed of outage.resume) {
            for (const ms of Object.values(resumed)) expect(ms).toBeLessThan(5_000)
          }
          expect(onlyOk(outage.after)).toEqual([])
          expect(accounts.missing).toBe(0)
          expect(accounts.halfWritten).toBe(0)
        }),
      60_000
    )
  }))

// As on PostgreSQL; the shared MariaDB server is only the sign that CI runs MariaDB tests (and has mariadbd).
describeOn("mysql", "faults under load", () => {
  it.live(
    "the database server killed mid-run: StoreError in bounded time, then service resumes, no registration lost",
    () => databaseRestartHandled(mariadb),
    60_000
  )
})
