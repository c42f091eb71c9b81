/**
 * `npx tsx bench/enumeration.ts`: how long requests about unknown accounts take next to the same requests about
 * real ones, on a SQLite file with real argon2id (default parameters). With the outbox the mail sender (here one
 * that takes 200 ms per message, run by an `OutboxWorker` in the background) is off the request path, and decoy
 * rows make unknown addresses cost what real ones do. The inline mode is measured too, for contrast.
 *
 * Prints a table of medians and unknown/known ratios and writes `bench/results/enumeration.json`.
 * Targets: login 0.9-1.1; sendPasswordReset, resendVerification and register 0.8-1.25 (outbox mode).
 */
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { EmailSender } from "../src/EmailSender.js"
import * as OutboxWorker from "../src/OutboxWorker.js"
import * as PasswordHasher from "../src/PasswordHasher.js"
import * as SecureRandom from "../src/SecureRandom.js"
import * as SqliteUserStore from "../src/SqliteUserStore.js"
import * as UserHarbor from "../src/UserHarbor.js"
import * as UserHarborConfig from "../src/UserHarborConfig.js"
import { alternate, round, type Summary } from "./stats.js"

const runs = Number(process.env.RUNS ?? 60)
const password = "Correct-Horse-Battery-9"
const dir = mkdtempSync(join(tmpdir(), "userharbor-enum-"))

// A mail server that takes 200 ms to accept each message.
const slowSender = Layer.succeed(EmailSender, EmailSender.of({ send: () => Effect.sleep("200 millis") }))

const ports = (file: string) =>
  Layer.mergeAll(
    SqliteUserStore.layer({ filename: join(dir, file) }),
    slowSender,
    PasswordHasher.layer(),
    SecureRandom.layer,
    UserHarborConfig.layer({
      secretKey: Redacted.make("bench-secret-key-0123456789abcdefghijklmnop"),
      // Throttling stays on (both paths write a counter), with limits the repeated requests never reach: a
      // throttled known address would get a decoy and the benchmark would compare a decoy with a decoy.
      throttle: {
        mailLimit: 1_000_000,
        freeFailures: 1_000_000,
        disableAfter: 2_000_000,
        clientFreeFailures: 1_000_000
      }
    })
  ).pipe(Layer.orDie)

const outboxRuntime = ManagedRuntime.make(
  Layer.merge(UserHarbor.layerOutbox, OutboxWorker.layer({ pollInterval: "100 millis" }).pipe(Layer.orDie)).pipe(
    Layer.provideMerge(ports("outbox.db"))
  )
)
const inlineRuntime = ManagedRuntime.make(UserHarbor.layer.pipe(Layer.provideMerge(ports("inline.db"))))

type Runtime = typeof inlineRuntime

const harborOf = (runtime: Runtime | typeof outboxRuntime) => runtime.runPromise(UserHarbor.UserHarbor)

// Failures (InvalidCredentials) are the expected answer; time the call whatever it returns.
const settle = (effect: Effect.Effect<unknown, unknown>, runtime: Runtime | typeof outboxRuntime) =>
  runtime.runPromise(Effect.either(effect))

// Each call is timed on its own, from the caller's side, as a client would see it.
const timed = (run: (i: number) => Promise<unknown>) => async (from: number, count: number, samples: Array<number>) => {
  for (let i = from; i < from + count; i++) {
    const start = performance.now()
    await run(i)
    samples.push((performance.now() - start) * 1000)
  }
}

interface Pair {
  readonly name: string
  readonly mode: "outbox" | "inline"
  readonly target: readonly [number, number]
  readonly unknown: Summary
  readonly known: Summary
  readonly ratio: number
}

const measure = async (
  name: string,
  mode: "outbox" | "inline",
  target: readonly [number, number],
  setup: (harbor: UserHarbor.UserHarbor["Type"]) => Promise<unknown>,
  unknown: (harbor: UserHarbor.UserHarbor["Type"], i: number) => Effect.Effect<unknown, unknown>,
  known: (harbor: UserHarbor.UserHarbor["Type"], i: number) => Effect.Effect<unknown, unknown>,
  count = runs
): Promise<Pair> => {
  const runtime = mode === "outbox" ? outboxRuntime : inlineRuntime
  const harbor = await harborOf(runtime)
  await setup(harbor)
  const results = await alternate([
    { name: "unknown", batch: timed((i) => settle(unknown(harbor, i), runtime)) },
    { name: "known", batch: timed((i) => settle(known(harbor, i), runtime)) }
    // One call per side per round, so a burst of load from elsewhere hits both sides alike.
  ], { rounds: count, batch: 1, warmup: 5 })
  const u = results.unknown
  const k = results.known
  if (u === undefined || k === undefined) throw new Error("missing samples")
  const pair = { name, mode, target, unknown: u, known: k, ratio: round(u.medianUs / k.medianUs, 3) }
  const ok = pair.ratio >= target[0] && pair.ratio <= target[1]
  console.log(
    `${`${name} (${mode})`.padEnd(40)} unknown ${(u.medianUs / 1000).toFixed(2).padStart(8)} ms  ` +
      `known ${(k.medianUs / 1000).toFixed(2).padStart(8)} ms  ratio ${pair.ratio.toFixed(3)}  ` +
      `target ${target[0]}-${target[1]} ${mode === "inline" ? "(not a target: contrast)" : ok ? "ok" : "MISSED"}`
  )
  return pair
}

const register = (harbor: UserHarbor.UserHarbor["Type"], username: string, email: string) =>
  harbor.register({ username, email, password })

const main = async () => {
  console.log(`UserHarbor enumeration timing: ${runs} runs per side, medians, SQLite file, argon2id defaults`)
  const pairs: Array<Pair> = []
  const modes = (process.env.MODES ?? "outbox,inline").split(",").filter((m) => m === "outbox" || m === "inline")
  for (const mode of modes) {
    const tag = mode === "outbox" ? "o" : "i"
    pairs.push(
      await measure(
        "login: unknown user vs wrong password",
        mode,
        [0.9, 1.1],
        (h) => Effect.runPromise(Effect.either(register(h, `known${tag}`, `known.${tag}@example.com`))),
        (h) => h.login({ username: `nobody${tag}`, password: "Wrong-Password-123" }),
        (h) => h.login({ username: `known${tag}`, password: "Wrong-Password-123" })
      ),
      await measure(
        "sendPasswordReset: unknown vs existing",
        mode,
        [0.8, 1.25],
        () => Promise.resolve(),
        (h) => h.sendPasswordReset(`nobody.${tag}@example.com`),
        (h) => h.sendPasswordReset(`known.${tag}@example.com`),
        mode === "inline" ? 20 : runs
      ),
      await measure(
        "resendVerification: unknown vs unverified",
        mode,
        [0.8, 1.25],
        () => Promise.resolve(),
        (h) => h.resendVerification(`nobody.${tag}@example.com`),
        (h) => h.resendVerification(`known.${tag}@example.com`),
        mode === "inline" ? 20 : runs
      ),
      await measure(
        "register: taken email vs fresh",
        mode,
        [0.8, 1.25],
        () => Promise.resolve(),
        (h, i) => register(h, `taker${tag}${i}`, `known.${tag}@example.com`),
        (h, i) => register(h, `fresh${tag}${i}`, `fresh${i}.${tag}@example.com`),
        mode === "inline" ? 20 : runs
      )
    )
  }
  mkdirSync("bench/results", { recursive: true })
  const report = { runs, date: new Date().toISOString(), pairs }
  writeFileSync("bench/results/enumeration.json", JSON.stringify(report, null, 2))
  console.log("wrote bench/results/enumeration.json")
}

main().finally(async () => {
  await outboxRuntime.dispose()
  await inlineRuntime.dispose()
  rmSync(dir, { recursive: true, force: true })
})
