import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type { Pool, QueryConfig } from "pg"
import { StoreError } from "../Errors.js"
import type { SessionWithUser, TokenHash, UserStoreService } from "../UserStore.js"
import { firstSession, oneSession, outsideTransactions, sessionBatchQuery, sessionQuery } from "./sessionRow.js"

// Named statements: each connection parses and plans them once, then only binds and executes them. PostgreSQL
// shares the machine's cores with the app as often as not, and parsing a join per request is most of its work here.
const single = { name: "userharbor_find_session_v2", text: sessionQuery("$1") }
const batched = { name: "userharbor_find_sessions_v1", text: sessionBatchQuery("$1") }

/**
 * How many look-ups may be on the wire at once, and how many one query may carry. Below the first bound a look-up
 * goes out at once, as its own query; above it, look-ups wait for the next free slot and go out together. Why: on
 * the client, a query costs `pg` 25-30 µs of CPU whatever it carries (the query object, the protocol messages, the
 * result's field parsers), about twice the whole session check on SQLite, and under load most of an authenticated
 * request's time on PostgreSQL (docs/performance.md). Two in flight keep the connection busy while one answer is
 * read; waiting for one of them costs a look-up at most one round trip.
 */
export interface Limits {
  readonly inFlight: number
  readonly batch: number
}

const defaultLimits: Limits = { inFlight: 2, batch: 64 }

type Answer = Effect.Effect<Option.Option<SessionWithUser>, StoreError>

interface Waiter {
  readonly tokenHash: TokenHash
  readonly resume: (answer: Answer) => void
}

const failed = (cause: unknown): Answer => Effect.fail(new StoreError({ operation: "findSession", cause }))

/** The PostgreSQL fast path: the session look-up straight on the pool, outside transactions. */
export const make = (
  pool: Pool,
  fallback: UserStoreService["findSession"],
  limits: Limits = defaultLimits
): UserStoreService["findSession"] => {
  let inFlight = 0
  const waiting: Array<Waiter> = []

  // The next queries go out before this one's fibers resume, so the wire is never idle while look-ups wait.
  const settle = (settled: () => void) => {
    inFlight--
    drain()
    settled()
  }
  // `pg`'s callback form: no promise to allocate and chain per look-up, and the fibers resume with the answer. One
  // look-up alone takes the single-row statement; a group, the batch, whose rows name the hash they answer for.
  const send = (group: ReadonlyArray<Waiter>) => {
    inFlight++
    const [first] = group
    const alone = group.length === 1 ? first : undefined
    const query: QueryConfig<Array<unknown>> = alone === undefined
      ? { ...batched, values: [group.map((waiter) => waiter.tokenHash)] }
      : { ...single, values: [alone.tokenHash] }
    pool.query(query, (cause, result) =>
      settle(() => {
        if (Predicate.isNotNullable(cause)) {
          for (const waiter of group) waiter.resume(failed(cause))
        } else if (alone !== undefined) {
          alone.resume(firstSession(result.rows, alone.tokenHash))
        } else {
          const rows = new Map<unknown, unknown>()
          for (const row of result.rows) if (Predicate.isRecord(row)) rows.set(row["lookup_hash"], row)
          for (const waiter of group) waiter.resume(oneSession(rows.get(waiter.tokenHash), waiter.tokenHash))
        }
      }))
  }
  const drain = () => {
    while (inFlight < limits.inFlight && waiting.length > 0) send(waiting.splice(0, limits.batch))
  }

  return outsideTransactions(fallback, (tokenHash) =>
    Effect.async((resume) => {
      const waiter: Waiter = { tokenHash, resume }
      if (inFlight < limits.inFlight) {
        send([waiter])
        return
      }
      waiting.push(waiter)
      // An interrupted look-up still waiting leaves the queue; one already sent is answered to no one.
      return Effect.sync(() => {
        const at = waiting.indexOf(waiter)
        if (at >= 0) waiting.splice(at, 1)
      })
    }))
}
