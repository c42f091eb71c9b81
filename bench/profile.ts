/**
 * `node --cpu-prof --cpu-prof-dir=bench/results --import tsx bench/profile.ts [raw|checker|runPromise|fiber] [calls]`:
 * a loop of one session-check path on the 10,000-session fixture, to profile on its own; then
 * `npx tsx bench/profile.ts summary bench/results/<file>.cpuprofile` prints the functions by self time.
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import * as UserHarbor from "../src/UserHarbor.js"
import { rawSqliteCheck, seedSqlite, sqliteHarbor, tokenFor } from "./fixtures.js"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
}

const summary = (file: string) => {
  const profile: Profile = JSON.parse(readFileSync(file, "utf8"))
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<string, number>()
  for (const id of profile.samples) {
    const frame = byId.get(id)?.callFrame
    const key = frame === undefined
      ? "?"
      : `${frame.functionName || "(anonymous)"} ${
        frame.url.replace(/^.*node_modules\//, "").replace(/^.*\/wt\/[^/]+\//, "")
      }:${frame.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + 1)
  }
  const total = profile.samples.length
  for (const [key, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${((n / total) * 100).toFixed(1).padStart(5)}%  ${key}`)
  }
}

const loop = async (path: string, calls: number) => {
  const sessions = 10_000
  const filename = await seedSqlite(sessions)
  const tokens = Array.from({ length: sessions }, (_, i) => tokenFor((i * 2654435761) % sessions))
  const at = (i: number) => tokens[i % tokens.length] ?? ""
  const raw = rawSqliteCheck(filename)
  const { harbor, runtime } = await sqliteHarbor(filename)
  const check = await runtime.runPromise(UserHarbor.sessionChecker)
  const started = Date.now()
  if (path === "raw") { for (let i = 0; i < calls; i++) raw.check(at(i)) }
  else if (path === "checker") { for (let i = 0; i < calls; i++) await check(at(i)) }
  else if (path === "runPromise") {
    for (let i = 0; i < calls; i++) await runtime.runPromise(harbor.validateSession(at(i)))
  } else if (path === "fiber") {
    await runtime.runPromise(Effect.gen(function*() {
      for (let i = 0; i < calls; i++) yield* harbor.validateSession(at(i))
    }))
  } else throw new Error(`unknown path ${path}`)
  console.log(`${path}: ${(((Date.now() - started) * 1000) / calls).toFixed(2)} µs per call (mean)`)
  await runtime.dispose()
  raw.close()
}

const [path = "checker", arg = "200000"] = process.argv.slice(2)
if (path === "summary") summary(arg)
else await loop(path, Number(arg))
