/**
 * Runs `StoreConformance` as vitest tests: one `it.effect` per case, grouped by port, all sharing one store built
 * from `store` for the block (as a persistent database would be shared). A backend's test file is one call.
 */
import { describe, layer } from "@effect/vitest"
import type * as Layer from "effect/Layer"
import type { AccountAdminStore } from "../../src/AccountAdminStore.js"
import type { CounterStore } from "../../src/CounterStore.js"
import type { FactorStore } from "../../src/FactorStore.js"
import type { OutboxStore } from "../../src/OutboxStore.js"
import { StoreConformance } from "../../src/testing.js"
import type { UserStore } from "../../src/UserStore.js"

type Ports = UserStore | CounterStore | OutboxStore | FactorStore | AccountAdminStore

const groups: ReadonlyArray<readonly [string, ReadonlyArray<StoreConformance.Case<Ports>>]> = [
  ["UserStore", StoreConformance.userStoreCases],
  ["CounterStore", StoreConformance.counterStoreCases],
  ["CounterStore with UserStore", StoreConformance.counterWithUserStoreCases],
  ["OutboxStore", StoreConformance.outboxStoreCases],
  ["OutboxStore with UserStore", StoreConformance.outboxWithUserStoreCases],
  ["FactorStore", StoreConformance.factorStoreCases],
  ["FactorStore with UserStore", StoreConformance.factorWithUserStoreCases],
  ["AccountAdminStore", StoreConformance.accountAdminStoreCases]
]

export const conformanceSuite = <E>(
  name: string,
  store: Layer.Layer<Ports, E>
): void =>
  layer(store, { timeout: "60 seconds" })(`store conformance (${name})`, (it) => {
    for (const [port, cases] of groups) {
      describe(port, () => {
        for (const conformanceCase of cases) {
          it.effect(conformanceCase.name, () => conformanceCase.run)
        }
      })
    }
  })
