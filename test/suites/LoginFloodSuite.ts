/**
 * A login flood on PostgreSQL and MariaDB/MySQL with the real argon2 hasher (default parameters; 2 permits and 14
 * waiting instead of the default 2 per CPU and 64, to keep CI short) and a pool of 10: 1,000 concurrent logins
 * must end in `Busy`, `TooManyAttempts`, `InvalidCredentials` or a session, never in `StoreError`, and the users
 * who were not attacked log in right after. Before logins were admitted to the hasher ahead of their store round
 * trips, each of the 1,000 queued for a pooled connection first, and under the hashing load most waited past the
 * pool's 5 s connect timeout: 751 of 1,000 ended in `StoreError` here (877 with the default limits); now 16 are
 * admitted and 984 refused as `Busy` at once (issue 12, item 18).
 */
import { expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import type { CounterStore } from "../../src/CounterStore.js"
import type { OutboxStore } from "../../src/OutboxStore.js"
import * as PasswordHasher from "../../src/PasswordHasher.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import type { UserStore } from "../../src/UserStore.js"
import { registerVerified } from "../support/fixtures.js"

const password = "flood-resistant-passphrase-7"
const user = (name: string) => ({ username: name, email: `${name.toLowerCase()}@example.com`, password })
const targets = Array.from({ length: 5 }, (_, i) => user(`Target${i}`))
const bystanders = Array.from({ length: 3 }, (_, i) => user(`Bystander${i}`))

const outcomeOf = <A, E extends { readonly _tag: string }>(exit: Exit.Exit<A, E>) =>
  Exit.isSuccess(exit)
    ? "ok"
    : Cause.isFailType(exit.cause)
    ? exit.cause.error._tag
    : `defect: ${Cause.pretty(exit.cause)}`

/** The flood on `store`; each backend's file calls it inside its "login flood" block. */
export const loginFlood = <E>(store: () => Layer.Layer<UserStore | CounterStore | OutboxStore, E>) =>
  it.effect(
    "1,000 concurrent logins, pool of 10: no StoreError, and bystanders log in after",
    () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        for (const u of [...targets, ...bystanders]) yield* registerVerified(u)
        // Wrong passwords for the targets and unknown names, from 50 clients; some right ones for the bystanders.
        const calls = Array.from({ length: 1000 }, (_, i) =>
          i % 10 === 0
            ? h.login({ username: bystanders[i % bystanders.length]!.username, password })
            : h.login({
              username: i % 3 === 0 ? `Nobody${i}` : targets[i % targets.length]!.username,
              password: `wrong-guess-${i}`,
              clientKey: `198.51.100.${i % 50}`
            }))
        const started = Date.now()
        const exits = yield* Effect.all(calls.map(Effect.exit), { concurrency: "unbounded" })
        const outcomes = exits.map(outcomeOf)
        const counts = outcomes.reduce<Record<string, number>>(
          (all, outcome) => ({ ...all, [outcome]: (all[outcome] ?? 0) + 1 }),
          {}
        )
        console.log(`login flood: ${JSON.stringify(counts)} in ${Date.now() - started} ms`)
        expect(outcomes.filter((o) => !["ok", "InvalidCredentials", "TooManyAttempts", "Busy"].includes(o))).toEqual([])
        expect(counts["Busy"] ?? 0).toBeGreaterThan(0)
        // After the flood, every bystander logs in (one at a time, as people do).
        for (const u of bystanders) yield* h.login({ username: u.username, password })
      }).pipe(
        Effect.provide(
          UserHarborTest.layerWithStore(
            store(),
            {},
            PasswordHasher.layer(PasswordHasher.defaultOptions, { permits: 2, maxQueue: 14 }).pipe(Layer.orDie)
          )
        )
      ),
    120_000
  )
