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

export interface Contender {
  readonly name: string
  /** One measured call; receives the call's index so it can pick its input. */
  readonly run: (i: number) => Promise<unknown> | unknown
}

/**
 * Runs each contender `rounds` times `batch` calls, alternating contenders round by round, and returns the
 * per-call samples in microseconds (one sample per call).
 */
export const alternate = async (
  contenders: ReadonlyArray<Contender>,
  options: { readonly rounds: number; readonly batch: number; readonly warmup: number }
): Promise<Record<string, Summary>> => {
  for (const contender of contenders) {
    for (let i = 0; i < options.warmup; i++) await contender.run(i)
  }
  const samples: Record<string, Array<number>> = Object.fromEntries(contenders.map((c) => [c.name, []]))
  let index = 0
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse()
    for (const contender of order) {
      const bucket = samples[contender.name]
      for (let i = 0; i < options.batch; i++) {
        const start = performance.now()
        await contender.run(index++)
        bucket?.push((performance.now() - start) * 1000)
      }
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
