/**
 * Faults under load over HTTP: two processes of the example app (`support/httpFaults.ts`: as the HTTP benchmark
 * runs it, with the shared session cache) on a private PostgreSQL server that this test starts, each serving
 * closed-loop `fetch` clients that cycle through `GET /api/accounts/me`, a login and a registration. The server is
 * stopped at once (as in a crash) and started again; separately, one app is killed. The bounds here are generous (a
 * loaded 2-core CI machine); `bench/faults.ts` (`http`) measures the figures published in docs/deployment.md.
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { databaseRestart, instanceKill } from "../support/faults.js"
import { httpApps } from "../support/httpFaults.js"
import { describeOn } from "../support/sqlDatabases.js"

const timing = { warmMs: 2_000, outageMs: 3_000, afterMs: 8_000, clients: 3 }
// A request unanswered after this long is recorded as "timeout": a hang shows as such rather than stalling the run.
const apps = httpApps({ requestTimeoutMs: 15_000 })

const tags = (outcomes: Record<string, Record<string, number>>) =>
  [...new Set(Object.values(outcomes).flatMap((counts) => Object.keys(counts)))].sort()
const failures = (outcomes: Record<string, Record<string, number>>) => tags(outcomes).filter((tag) => !/^2/.test(tag))

// The shared server is only the sign that CI runs PostgreSQL tests; the test starts a server of its own.
describeOn("pg", "faults under load, over HTTP", () => {
  it.live(
    "the database server restarted mid-run: 503 in bounded time, then both apps serve again, no registration lost",
    () =>
      Effect.gen(function*() {
        const { accounts, outage, requests } = yield* databaseRestart(timing, apps)
        console.log(`http database restart: ${requests} requests, ${JSON.stringify({ outage, accounts })}`)
        // Every request started while the server was down answered 503 with a StoreError body: no 500, no hang.
        expect(Object.keys(outage.during)).toEqual(["check", "login", "register"])
        for (const counts of Object.values(outage.during)) expect(Object.keys(counts)).toEqual(["503 StoreError"])
        expect(outage.longestDuring).toBeLessThan(10_000)
        // Over the whole run, only successes, 503s and (right after the return, see the Faults section) 429s.
        expect(failures(outage.all).filter((tag) => tag !== "503 StoreError" && tag !== "429 TooManyAttempts"))
          .toEqual([])
        // Every operation succeeded again on both apps within seconds, without restarting them.
        for (const resumed of outage.resume) {
          for (const ms of Object.values(resumed)) expect(ms).toBeLessThan(6_000)
        }
        expect(failures({ ...outage.after, login: {} })).toEqual([])
        expect(failures(outage.after).filter((tag) => tag !== "429 TooManyAttempts")).toEqual([])
        expect(accounts.registered).toBeGreaterThan(0)
        expect(accounts.missing).toBe(0)
        expect(accounts.halfWritten).toBe(0)
      }),
    90_000
  )

  it.live(
    "one app killed mid-run: the other serves on, its clients get refused connections, no registration lost",
    () =>
      Effect.gen(function*() {
        const { accounts, killed, requests, survivor, survivorLongestAfter } = yield* instanceKill(
          { ...timing, afterMs: 4_000 },
          apps
        )
        console.log(`http app kill: ${requests} requests, ${JSON.stringify({ survivor, killed, accounts })}`)
        // Logins the killed app had in flight keep their counter reservations (as those cut off by an outage), so the
        // survivor may refuse a right-password login with 429: never anything else.
        expect(failures({ ...survivor, login: {} })).toEqual([])
        expect(failures(survivor).filter((tag) => tag !== "429 TooManyAttempts")).toEqual([])
        expect(survivorLongestAfter).toBeLessThan(5_000)
        // A dead process answers nothing: its connections are refused or dropped at once, never left hanging.
        expect(failures(killed).filter((tag) => !["ECONNREFUSED", "ECONNRESET", "UND_ERR_SOCKET"].includes(tag)))
          .toEqual([])
        expect(accounts.registered).toBeGreaterThan(0)
        expect(accounts.missing).toBe(0)
        expect(accounts.halfWritten).toBe(0)
      }),
    90_000
  )
})
