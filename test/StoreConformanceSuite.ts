/**
 * Runs `StoreConformance.cases` as vitest tests: one `it.effect` per case, all sharing one store built from
 * `store` for the block (as a persistent database would be shared). A backend's test file is one call.
 */
import { layer } from "@effect/vitest"
import type * as Layer from "effect/Layer"
import { StoreConformance } from "../src/testing.js"
import type { UserStore } from "../src/UserStore.js"

export const conformanceSuite = <E>(name: string, store: Layer.Layer<UserStore, E>): void =>
  layer(store, { timeout: "60 seconds" })(`UserStore conformance (${name})`, (it) => {
    for (const conformanceCase of StoreConformance.cases) {
      it.effect(conformanceCase.name, () => conformanceCase.run)
    }
  })
