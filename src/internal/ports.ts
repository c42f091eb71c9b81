import * as Context from "effect/Context"
import { AccountAdminStore, type AccountAdminStoreService } from "../AccountAdminStore.js"
import { CounterStore, type CounterStoreService } from "../CounterStore.js"
import { FactorStore, type FactorStoreService } from "../FactorStore.js"
import { OutboxStore, type OutboxStoreService } from "../OutboxStore.js"
import { UserStore, type UserStoreService } from "../UserStore.js"

/** The storage ports of one backend, which share its transaction. */
export interface Ports {
  readonly store: UserStoreService
  readonly counters: CounterStoreService
  readonly outbox: OutboxStoreService
  readonly factors: FactorStoreService
  readonly admin: AccountAdminStoreService
}

/** The ports under their tags, as the stores' layers provide them. */
export const context = (
  ports: Ports
): Context.Context<UserStore | CounterStore | OutboxStore | FactorStore | AccountAdminStore> =>
  Context.make(UserStore, ports.store).pipe(
    Context.add(CounterStore, ports.counters),
    Context.add(OutboxStore, ports.outbox),
    Context.add(FactorStore, ports.factors),
    Context.add(AccountAdminStore, ports.admin)
  )
