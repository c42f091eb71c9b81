import * as Effect from "effect/Effect"
import type { Pool } from "pg"
import { StoreError } from "../Errors.js"
import type { UserStoreService } from "../UserStore.js"
import { firstSession, outsideTransactions, sessionQuery } from "./sessionRow.js"

const text = sessionQuery("$1")
// A named statement: each connection parses and plans it once, then only binds and executes it. PostgreSQL shares
// the machine's cores with the app as often as not, and parsing a join per request is most of its work here.
const name = "userharbor_find_session_v2"

/** The PostgreSQL fast path: the session look-up straight on the pool, outside transactions. */
export const make = (pool: Pool, fallback: UserStoreService["findSession"]): UserStoreService["findSession"] =>
  outsideTransactions(fallback, (tokenHash) =>
    // `pg`'s callback form: no promise to allocate and chain per request, and the fiber resumes with the answer.
    Effect.async((resume) => {
      pool.query({ name, text, values: [tokenHash] }, (cause, result) => {
        resume(
          cause !== undefined && cause !== null
            ? Effect.fail(new StoreError({ operation: "findSession", cause }))
            : firstSession(result.rows, tokenHash)
        )
      })
    }))
