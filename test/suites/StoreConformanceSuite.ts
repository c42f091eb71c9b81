/**
 * Runs `StoreConformance` as vitest tests: one `it.effect` per case, grouped by port, all sharing one store built
 * from `store` for the block (as a persistent database would be shared). A backend's test file is one call.
 */
import { describe, layer } from "@effect/vitest"
import type * as Layer from "effect/Layer"
import type * as SqlUserStore from "../../src/SqlUserStore.js"
import { StoreConformance } from "../../src/testing.js"

type Ports = SqlUserStore.PortTags

const groups: ReadonlyArray<readonly [string, ReadonlyArray<StoreConformance.Case<Ports>>]> = [
  ["UserStore", StoreConformance.userStoreCases],
  ["CounterStore", StoreConformance.counterStoreCases],
  ["CounterStore with UserStore", StoreConformance.counterWithUserStoreCases],
  ["OutboxStore", StoreConformance.outboxStoreCases],
  ["OutboxStore with UserStore", StoreConformance.outboxWithUserStoreCases],
  ["FactorStore", StoreConformance.factorStoreCases],
  ["FactorStore with UserStore", StoreConformance.factorWithUserStoreCases],
  ["SessionDeviceStore", StoreConformance.sessionDeviceStoreCases],
  ["SecurityEventStore", StoreConformance.securityEventStoreCases],
  ["SecurityEventStore with UserStore", StoreConformance.securityEventWithUserStoreCases],
  ["EmailChangeStore", StoreConformance.emailChangeStoreCases],
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
