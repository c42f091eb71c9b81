/**
 * Timing helpers for the benchmarks: the library and its raw baseline run in the same process, alternating in
 * rounds, so drift (JIT warm-up, CPU frequency, the other core's load) hits both alike.
 */
import { performance } from "node:perf_hooks"

export interface Summary {
  readonly runs: number
  readonly medianUs: number
  readonly p99Us: number
  readonly meanUs: number
}

export const summarize = (samplesUs: ReadonlyArray<number>): Summary => {
  const sorted = [...samplesUs].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  return {
    runs: sorted.length,
    medianUs: round(at(0.5)),
    p99Us: round(at(0.99)),
    meanUs: round(sorted.reduce((sum, x) => sum + x, 0) / sorted.length)
  }
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits

export const ratio = (a: number, b: number) => round(a / b, 2)

export interface Contender {
  readonly name: string
  /**
   * Runs the calls `from` to `from + count - 1`, timing each one itself and pushing its duration in microseconds
   * to `samples`: a contender that lives in a fiber (the library) times its calls inside one, as an Effect app
   * calls it, and the raw baseline times plain calls.
   */
  readonly batch: (from: number, count: number, samples: Array<number>) => Promise<void> | void
}

/** A contender whose calls are plain functions, timed one by one (awaited only when they return a promise). */
export const perCall = (name: string, run: (i: number) => unknown): Contender => ({
  name,
  batch: async (from, count, samples) => {
    for (let i = from; i < from + count; i++) {
      const start = performance.now()
      const result = run(i)
      if (result instanceof Promise) await result
      samples.push((performance.now() - start) * 1000)
    }
  }
})

/**
 * Runs each contender `rounds` times `batch` calls, alternating contenders round by round (and reversing their order
 * every other round), and returns the per-call summaries in microseconds.
 */
export const alternate = async (
  contenders: ReadonlyArray<Contender>,
  options: { readonly rounds: number; readonly batch: number; readonly warmup: number }
): Promise<Record<string, Summary>> => {
  for (const contender of contenders) await contender.batch(0, options.warmup, [])
  const samples: Record<string, Array<number>> = Object.fromEntries(contenders.map((c) => [c.name, []]))
  let index = options.warmup
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse()
    for (const contender of order) {
      await contender.batch(index, options.batch, samples[contender.name] ?? [])
      index += options.batch
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, summarize(s)]))
}

/** Operations per second of `concurrency` callers sharing `total` calls. */
export const throughput = async (
  total: number,
  concurrency: number,
  run: (i: number) => Promise<unknown>
): Promise<number> => {
  let next = 0
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await run(next++)
  }))
  return round(total / ((performance.now() - start) / 1000), 1)
}

/**
 * Throughput of several contenders, alternating: each round gives every contender `total` calls at `concurrency`,
 * and the result per contender is the median ops/s over the rounds.
 */
export interface ThroughputContender {
  readonly name: string
  readonly run: (i: number) => Promise<unknown>
  /**
   * Runs calls `from` to `from + total - 1` with `concurrency` callers itself (a library contender does it in
   * fibers, as an Effect app serves requests); without it, `run` is called from `concurrency` async loops.
   */
  readonly runAll?: (from: number, total: number, concurrency: number) => Promise<unknown>
}

const timedAll = async (contender: ThroughputContender, from: number, total: number, concurrency: number) => {
  if (contender.runAll === undefined) return throughput(total, concurrency, (i) => contender.run(from + i))
  const start = performance.now()
  await contender.runAll(from, total, concurrency)
  return round(total / ((performance.now() - start) / 1000), 1)
}

export const alternateThroughput = async (
  contenders: ReadonlyArray<ThroughputContender>,
  options: { readonly rounds: number; readonly total: number; readonly concurrency: number; readonly warmup: number }
): Promise<Record<string, { readonly rounds: ReadonlyArray<number>; readonly medianOpsPerSec: number }>> => {
  for (const contender of contenders) await timedAll(contender, 0, options.warmup, options.concurrency)
  const results: Record<string, Array<number>> = Object.fromEntries(contenders.map((c) => [c.name, []]))
  let offset = options.warmup
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse()
    for (const contender of order) {
      results[contender.name]?.push(await timedAll(contender, offset, options.total, options.concurrency))
      offset += options.total
    }
  }
  return Object.fromEntries(
    Object.entries(results).map(([name, rounds]) => [name, { rounds, medianOpsPerSec: median(rounds) }])
  )
}

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const value = sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
  return round(value ?? Number.NaN, 1)
}
