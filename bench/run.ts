/**
 * `npm run bench [-- <scenario numbers>]`: runs the scenarios of docs/performance.md (all of them, or those
 * named, e.g. `npm run bench -- 1 2`), prints each result with its ratio and target, and writes it as JSON to
 * `bench/results/<n>.json`. `BENCH_QUICK=1` shortens every scenario (for a smoke test, not for numbers).
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { fromPlainAsync, sessionCheck } from "./sessions.js"

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
          `validateSession: ${show(r.validateSession)} (${r.validateRatio}x raw)`
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
          growth === undefined ? "growth: run scenario 1 in the same run" : `growth vs scenario 1: ${growth}x`
        ].join("\n"),
        met: growth === undefined ? undefined : growth <= 1.5,
        data: { ...r, growthVsScenario1: growth }
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
      JSON.stringify({ scenario: id, ...scenario, run: undefined, at: new Date().toISOString(), quick, ...result }, null, 2)
    )
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
