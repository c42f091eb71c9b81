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
import { contenders, fromPlainAsync, sessionCheck, type SessionCheckResult } from "./sessions.js"
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

let scenario1: SessionCheckResult | undefined

const targetLine = (label: string, met: boolean) => `${met ? "met   " : "MISSED"}  ${label}`

// Scenarios 1 and 2: every contender with its ratio to the raw check, then each target with its verdict.
const sessionScenario = async (sessions: number) => {
  const r = await sessionCheck(sessions, latency)
  const median = (name: string) => r.summaries[name]?.medianUs ?? Number.NaN
  const x = (name: string) => r.ratios[name] ?? Number.NaN
  const library = [contenders.runPromise, contenders.fiber, contenders.verifyFiber, contenders.runSync]
  const checkerFastest = library.every((name) => median(contenders.checker) < median(name)) &&
    median(contenders.checker) < median(contenders.lucia)
  const growth = scenario1 === undefined || sessions === scenario1.sessions
    ? undefined
    : ratio(median(contenders.fiber), scenario1.summaries[contenders.fiber]?.medianUs ?? Number.NaN)
  const targets: Array<[string, boolean]> = [
    [`validateSession via runPromise <= 2.0x raw (${x(contenders.runPromise)}x)`, x(contenders.runPromise) <= 2],
    [`validateSession via runPromise >= 1.5x faster than Lucia (${r.fasterThanLucia}x)`, r.fasterThanLucia >= 1.5],
    [`validateSession in a fiber <= 1.5x raw (${x(contenders.fiber)}x)`, x(contenders.fiber) <= 1.5],
    [`verifySession in a fiber <= 2.0x raw (${x(contenders.verifyFiber)}x)`, x(contenders.verifyFiber) <= 2],
    [`sessionChecker <= 1.5x raw (${x(contenders.checker)}x)`, x(contenders.checker) <= 1.5],
    ["sessionChecker the fastest of the library's paths and Lucia", checkerFastest]
  ]
  if (growth !== undefined) targets.push([`validateSession in a fiber <= 1.5x scenario 1 (${growth}x)`, growth <= 1.5])
  const headline = [
    r.seedSeconds > 0 ? `(fixture built in ${r.seedSeconds} s; reused from bench/.data next time)` : "(cached fixture)",
    ...Object.entries(r.summaries).map(([name, summary]) => `${name}: ${show(summary)} (${x(name)}x raw)`),
    ...targets.map(([label, met]) => targetLine(label, met))
  ]
  return { r, growth, headline: headline.join("\n"), met: targets.every(([, met]) => met) }
}

const scenarios: Record<string, Scenario> = {
  "1": {
    title: "Session check, SQLite file, 10,000 sessions",
    target: "runPromise <= 2.0x raw and >= 1.5x faster than Lucia; fiber <= 1.5x; sessionChecker <= 1.5x, fastest",
    run: async () => {
      const { headline, met, r } = await sessionScenario(10_000)
      scenario1 = r
      return { headline, met, data: r }
    }
  },
  "2": {
    title: "Session check, SQLite file, 1,000,000 sessions",
    target: "as scenario 1, and validateSession in a fiber <= 1.5x scenario 1",
    run: async () => {
      const { growth, headline, met, r } = await sessionScenario(1_000_000)
      return {
        headline: growth === undefined ? `${headline}\ngrowth: run scenario 1 in the same run` : headline,
        met,
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
    target: "library ops/s >= 0.9x raw pg in fibers, >= 0.8x through runtime.runPromise per call",
    run: async () => {
      const r = await pgVerify({ rounds: scale(6), perRound: scale(5000) })
      const ops = (name: string) => r.opsPerSec[name]?.medianOpsPerSec
      return {
        headline: [
          `raw pg ops/s: ${ops("raw")}`,
          `raw pg with a named statement ops/s: ${
            ops("raw (named statement)")
          } (library in fibers ${r.namedRatio}x it)`,
          `library ops/s (callers in fibers): ${ops("library")} (${r.ratio}x raw)`,
          `library ops/s (runtime.runPromise per call): ${ops("library (runtime.runPromise per call)")} ` +
          `(${r.perCallRatio}x raw)`,
          `library + SessionCache ops/s: ${ops("library+SessionCache")} (${r.cachedRatio}x raw)`,
          targetLine(`in fibers >= 0.9x raw (${r.ratio}x)`, r.ratio >= 0.9),
          targetLine(`runtime.runPromise per call >= 0.8x raw (${r.perCallRatio}x)`, r.perCallRatio >= 0.8)
        ].join("\n"),
        met: r.ratio >= 0.9 && r.perCallRatio >= 0.8,
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
