import * as Context from "effect/Context"
import { CounterStore, type CounterStoreService } from "../CounterStore.js"
import { EmailChangeStore, type EmailChangeStoreService } from "../EmailChangeStore.js"
import { FactorStore, type FactorStoreService } from "../FactorStore.js"
import { OutboxStore, type OutboxStoreService } from "../OutboxStore.js"
import { UserStore, type UserStoreService } from "../UserStore.js"

/** The storage ports of one backend, which share its transaction. */
export interface Ports {
  readonly store: UserStoreService
  readonly counters: CounterStoreService
  readonly outbox: OutboxStoreService
  readonly factors: FactorStoreService
  readonly emailChanges: EmailChangeStoreService
}

/** The tags of the storage ports, as every store layer of this package provides them. */
export type Tags = UserStore | CounterStore | OutboxStore | FactorStore | EmailChangeStore

/** The ports under their tags, as the stores' layers provide them. */
export const context = (ports: Ports): Context.Context<Tags> =>
  Context.make(UserStore, ports.store).pipe(
    Context.add(CounterStore, ports.counters),
    Context.add(OutboxStore, ports.outbox),
    Context.add(FactorStore, ports.factors),
    Context.add(EmailChangeStore, ports.emailChanges)
  )
