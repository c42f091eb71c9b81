/**
 * Scenario 6: `verifySession` on PostgreSQL with 50 concurrent callers (pool of 10) against a raw `pg` pool of 10
 * running the same query, in a fresh schema dropped afterwards. `seed` also fills the HTTP benchmark's schema.
 */
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import pg, { type Pool } from "pg"
import type { CounterStore } from "../src/CounterStore.js"
import * as PgUserStore from "../src/PgUserStore.js"
import * as SessionCache from "../src/SessionCache.js"
import * as UserHarbor from "../src/UserHarbor.js"
import type { UserStore } from "../src/UserStore.js"
import {
  emailFor,
  harborLayer,
  hashToken,
  passwordHash,
  sessionQuery,
  sessionsPerUser,
  tokenFor,
  userIdFor
} from "./fixtures.js"
import { alternateThroughput, ratio } from "./stats.js"

export const pgUrl = process.env["USERHARBOR_BENCH_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/test"

export const seed = async (pool: Pool, sessions: number) => {
  const hash = await passwordHash()
  const now = Date.now()
  const users = Math.ceil(sessions / sessionsPerUser)
  for (let from = 0; from < users; from += 500) {
    const ids = Array.from({ length: Math.min(500, users - from) }, (_, k) => from + k)
    await pool.query(
      `INSERT INTO userharbor_users (id, username, username_key, email, email_key, password_hash, password_version,
        verified, created_at)
      SELECT id, 'user' || n, 'user' || n, email, email, $3, 1, TRUE, $4
      FROM unnest($1::text[], $2::text[], $5::int[]) AS t(id, email, n)`,
      [ids.map(userIdFor), ids.map(emailFor), hash, now, ids]
    )
    const rows = ids.flatMap((u) => Array.from({ length: sessionsPerUser }, (_, k) => u * sessionsPerUser + k))
    await pool.query(
      `INSERT INTO userharbor_sessions (token_hash, id, user_id, created_at, expires_at, last_used_at)
      SELECT h, 's' || i, u, $4, $5, $4 FROM unnest($1::text[], $2::int[], $3::text[]) AS t(h, i, u)`,
      [
        rows.map((i) => hashToken(tokenFor(i))),
        rows,
        rows.map((i) => userIdFor(Math.floor(i / sessionsPerUser))),
        now,
        now + 30 * 86_400_000
      ]
    )
  }
  await pool.query("ANALYZE")
}

export const pgVerify = async (options: { readonly rounds: number; readonly perRound: number }) => {
  const sessions = 10_000
  const schema = `userharbor_bench_${randomBytes(4).toString("hex")}`
  const admin = new pg.Pool({ connectionString: pgUrl, max: 1 })
  await admin.query(`CREATE SCHEMA ${schema}`)
  const scoped = new URL(pgUrl)
  scoped.searchParams.set("options", `-c search_path=${schema}`)
  const store = PgUserStore.layer({ url: Redacted.make(scoped.toString()), maxConnections: 10 })
  const harborOn = (storeLayer: Layer.Layer<UserStore | CounterStore, unknown>) =>
    ManagedRuntime.make(harborLayer(storeLayer))
  const runtime = harborOn(store)
  // A second runtime (its own pool of 10) with the session cache over the store.
  const cachedRuntime = harborOn(SessionCache.layer().pipe(Layer.provideMerge(store)))
  const raw = new pg.Pool({ connectionString: scoped.toString(), max: 10 })
  try {
    const harbor = await runtime.runPromise(UserHarbor.UserHarbor)
    const cachedHarbor = await cachedRuntime.runPromise(UserHarbor.UserHarbor)
    await seed(raw, sessions)
    const tokens = Array.from({ length: sessions }, (_, i) => tokenFor((i * 2654435761) % sessions))
    const at = (i: number) => tokens[i % tokens.length] ?? ""
    const rawCheck = async (token: string) => {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return false
      const { rows } = await raw.query(`${sessionQuery}$1`, [hashToken(token)])
      const row = rows[0]
      return typeof row === "object" && row !== null && "expires_at" in row && Number(row.expires_at) > Date.now()
    }
    // The same check with a named statement (parsed once per connection), as the library's fast path runs it.
    const rawNamedCheck = async (token: string) => {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return false
      const { rows } = await raw.query({ name: "bench_session", text: `${sessionQuery}$1`, values: [hashToken(token)] })
      const row = rows[0]
      return typeof row === "object" && row !== null && "expires_at" in row && Number(row.expires_at) > Date.now()
    }
    for (let i = 0; i < 50; i++) {
      if (!(await rawCheck(at(i))) || !(await runtime.runPromise(harbor.verifySession(at(i))))) {
        throw new Error(`session ${i} not valid`)
      }
    }
    // The library's callers are fibers, as in an Effect server; `runtime.runPromise` per call is scenario 7's cost.
    const inFibers = (
      run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>,
      call: (i: number) => Effect.Effect<unknown, unknown>
    ) =>
    (from: number, total: number, concurrency: number) =>
      run(Effect.forEach(Array.from({ length: total }, (_, k) => from + k), call, { concurrency, discard: true }))
    const result = await alternateThroughput([
      { name: "raw", run: (i) => rawCheck(at(i)) },
      { name: "raw (named statement)", run: (i) => rawNamedCheck(at(i)) },
      {
        name: "library",
        run: (i) => runtime.runPromise(harbor.verifySession(at(i))),
        runAll: inFibers((effect) => runtime.runPromise(effect), (i) => harbor.verifySession(at(i)))
      },
      {
        name: "library (runtime.runPromise per call)",
        run: (i) => runtime.runPromise(harbor.verifySession(at(i)))
      },
      {
        // 1,000 sessions active within the cache's TTL, as in scenario 1.
        name: "library+SessionCache",
        run: (i) => cachedRuntime.runPromise(cachedHarbor.verifySession(at(i % 1000))),
        runAll: inFibers((effect) => cachedRuntime.runPromise(effect), (i) => cachedHarbor.verifySession(at(i % 1000)))
      }
    ], { rounds: options.rounds, total: options.perRound, concurrency: 50, warmup: 2000 })
    const ops = (name: string) => result[name]?.medianOpsPerSec ?? Number.NaN
    return {
      opsPerSec: result,
      ratio: ratio(ops("library"), ops("raw")),
      namedRatio: ratio(ops("library"), ops("raw (named statement)")),
      perCallRatio: ratio(ops("library (runtime.runPromise per call)"), ops("raw")),
      cachedRatio: ratio(ops("library+SessionCache"), ops("raw"))
    }
  } finally {
    await cachedRuntime.dispose()
    await runtime.dispose()
    await raw.end()
    await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    await admin.end()
  }
}
