/**
 * `npm run bench [-- <scenario numbers>]`: runs the scenarios of docs/performance.md (all of them, or those
 * named, e.g. `npm run bench -- 1 2`), prints each result with its ratio and target, and writes it as JSON to
 * `bench/results/<n>.json`. `BENCH_QUICK=1` shortens every scenario (for a smoke test, not for numbers).
 */
import { execFile } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { promisify } from "node:util"
import { concurrentLogins, loginAndRegister } from "./passwords.js"
import { pgUrl, pgVerify } from "./postgres.js"
import { fromPlainAsync, sessionCheck } from "./sessions.js"
import { median, ratio } from "./stats.js"

const quick = process.env["BENCH_QUICK"] === "1"
const scale = (n: number) => (quick ? Math.max(1, Math.ceil(n / 10)) : n)
const latency = { rounds: scale(40), batch: 1000, warmup: scale(5000) }

interface Scenario {
  readonly title: string
  readonly target: string
  readonly run: () => Promise<{ readonly headline: string; readonly met: boolean | undefined; readonly data: unknown }>
}

const show = (s: { readonly medianUs: number; readonly p99Us: number }) => `median ${s.medianUs} µs, p99 ${s.p99Us} µs`

let scenario1: { readonly validate: number; readonly verify: number } | undefined

const scenarios: Record<string, Scenario> = {
  "1": {
    title: "Session check, SQLite file, 10,000 sessions",
    target: "median <= 2.0x raw",
    run: async () => {
      const r = await sessionCheck(10_000, latency)
      scenario1 = { validate: r.validateSession.medianUs, verify: r.verifySession.medianUs }
      return {
        headline: [
          `raw: ${show(r.raw)}`,
          `verifySession: ${show(r.verifySession)} (${r.verifyRatio}x raw)`,
          `validateSession: ${show(r.validateSession)} (${r.validateRatio}x raw)`,
          `validateSession + SessionCache: ${show(r.cachedValidateSession)} (${r.cachedValidateRatio}x raw)`
        ].join("\n"),
        met: r.verifyRatio <= 2 && r.validateRatio <= 2,
        data: r
      }
    }
  },
  "2": {
    title: "Session check, SQLite file, 1,000,000 sessions",
    target: "median <= 1.5x scenario 1",
    run: async () => {
      const r = await sessionCheck(1_000_000, latency)
      const growth = scenario1 === undefined
        ? undefined
        : Math.round((r.validateSession.medianUs / scenario1.validate) * 100) / 100
      return {
        headline: [
          `raw: ${show(r.raw)}`,
          `verifySession: ${show(r.verifySession)} (${r.verifyRatio}x raw)`,
          `validateSession: ${show(r.validateSession)} (${r.validateRatio}x raw)`,
          `validateSession + SessionCache: ${show(r.cachedValidateSession)} (${r.cachedValidateRatio}x raw)`,
          growth === undefined ? "growth: run scenario 1 in the same run" : `growth vs scenario 1: ${growth}x`
        ].join("\n"),
        met: growth === undefined ? undefined : growth <= 1.5,
        data: { ...r, growthVsScenario1: growth }
      }
    }
  },
  "3": {
    title: "login and register against raw argon2 + the same statements (argon2id m=64 MiB, t=3, p=4)",
    target: "library ops/s >= 0.95x raw",
    run: async () => {
      const r = await loginAndRegister({ rounds: scale(8), perRound: scale(5) })
      const ops = (x: Record<string, { readonly rounds: ReadonlyArray<number> } | number>, name: string) => {
        const entry = x[name]
        return typeof entry === "object" ? `${median(entry.rounds)} (rounds ${entry.rounds.join(", ")})` : "?"
      }
      return {
        headline: [
          `login ops/s: raw ${ops(r.login, "raw")}, library ${ops(r.login, "library")} (${r.login.ratio}x raw)`,
          `register ops/s: raw ${ops(r.register, "raw")}, library ${ops(r.register, "library")} ` +
          `(${r.register.ratio}x raw)`
        ].join("\n"),
        met: r.login.ratio >= 0.95 && r.register.ratio >= 0.95,
        data: r
      }
    }
  },
  "4": {
    title: "100 concurrent logins against sequential logins",
    target: "concurrent >= 1.7x sequential ops/s, event-loop delay p99 < 10 ms",
    run: async () => {
      const r = await concurrentLogins({ rounds: scale(3), sequential: scale(10) })
      return {
        headline: [
          `sequential ops/s: ${r.sequentialOpsPerSec.join(", ")}`,
          `100 concurrent ops/s: ${r.concurrentOpsPerSec.join(", ")} (${r.ratio}x sequential)`,
          `event-loop delay p99 during the concurrent runs: ${r.eventLoopDelayP99Ms.join(", ")} ms`,
          `raw (hand-written) 100 concurrent: ${r.raw.concurrentOpsPerSec} ops/s, ` +
          `event-loop delay p99 ${r.raw.eventLoopDelayP99Ms} ms`
        ].join("\n"),
        met: r.ratio >= 1.7 && r.maxDelayP99Ms < 10,
        data: r
      }
    }
  },
  "5": {
    title: "peak RSS: 1,000 concurrent login attempts against 10 (one child process each)",
    target: "<= 1.2x (needs bounded hashing)",
    run: async () => {
      const child = async (attempts: number) => {
        const { stdout } = await promisify(execFile)(
          process.execPath,
          ["--import", "tsx", "bench/rss-child.ts", String(quick ? Math.min(attempts, 100) : attempts)],
          { maxBuffer: 1 << 20 }
        )
        const parsed: { readonly maxRssKb: number; readonly outcomes: Record<string, number> } = JSON.parse(stdout)
        return parsed
      }
      const ten = await child(10)
      const thousand = await child(1000)
      const r = ratio(thousand.maxRssKb, ten.maxRssKb)
      return {
        headline: [
          `10 attempts: peak RSS ${Math.round(ten.maxRssKb / 1024)} MiB ${JSON.stringify(ten.outcomes)}`,
          `1,000 attempts: peak RSS ${Math.round(thousand.maxRssKb / 1024)} MiB ${JSON.stringify(thousand.outcomes)}`,
          `ratio: ${r}x`
        ].join("\n"),
        met: r <= 1.2,
        data: { ten, thousand, ratio: r }
      }
    }
  },
  "6": {
    title: `PostgreSQL verifySession, 50 concurrent callers, pool of 10 (${new URL(pgUrl).host})`,
    target: "library ops/s >= 0.7x raw pg",
    run: async () => {
      const r = await pgVerify({ rounds: scale(6), perRound: scale(5000) })
      const ops = (name: string) => r.opsPerSec[name]?.medianOpsPerSec
      return {
        headline: [
          `raw pg ops/s: ${ops("raw")}`,
          `library ops/s (callers in fibers): ${ops("library")} (${r.ratio}x raw)`,
          `library ops/s (runtime.runPromise per call): ${ops("library (runtime.runPromise per call)")} ` +
          `(${r.perCallRatio}x raw)`,
          `library + SessionCache ops/s: ${ops("library+SessionCache")} (${r.cachedRatio}x raw)`
        ].join("\n"),
        met: r.ratio >= 0.7,
        data: r
      }
    }
  },
  "7": {
    title: "verifySession from plain async code through a ManagedRuntime",
    target: "report (µs per call)",
    run: async () => {
      const r = await fromPlainAsync(latency)
      return {
        headline: `raw async: ${show(r.raw)}\nruntime.runPromise: ${show(r.managedRuntime)} (${r.ratio}x raw)`,
        met: undefined,
        data: r
      }
    }
  }
}

const main = async () => {
  const wanted = process.argv.slice(2).filter((arg) => arg in scenarios)
  const selected = wanted.length > 0 ? wanted : Object.keys(scenarios)
  mkdirSync("bench/results", { recursive: true })
  console.log(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"})${quick ? ", QUICK" : ""}`)
  for (const id of selected) {
    const scenario = scenarios[id]
    if (scenario === undefined) continue
    console.log(`\n== ${id}. ${scenario.title} (target: ${scenario.target})`)
    const started = Date.now()
    const result = await scenario.run()
    const verdict = result.met === undefined ? "" : result.met ? "  [target met]" : "  [target MISSED]"
    console.log(result.headline + verdict)
    writeFileSync(
      `bench/results/${id}.json`,
      JSON.stringify({ scenario: id, ...scenario, at: new Date().toISOString(), quick, ...result }, null, 2)
    )
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
