import * as Context from "effect/Context"
import { AccountAdminStore, type AccountAdminStoreService } from "../AccountAdminStore.js"
import { CounterStore, type CounterStoreService } from "../CounterStore.js"
import { EmailChangeStore, type EmailChangeStoreService } from "../EmailChangeStore.js"
import { FactorStore, type FactorStoreService } from "../FactorStore.js"
import { OutboxStore, type OutboxStoreService } from "../OutboxStore.js"
import { SecurityEventStore, type SecurityEventStoreService } from "../SecurityEventStore.js"
import { SessionDeviceStore, type SessionDeviceStoreService } from "../SessionDeviceStore.js"
import { UserStore, type UserStoreService } from "../UserStore.js"

/** The storage ports of one backend, which share its transaction. */
export interface Ports {
  readonly store: UserStoreService
  readonly counters: CounterStoreService
  readonly outbox: OutboxStoreService
  readonly factors: FactorStoreService
  readonly devices: SessionDeviceStoreService
  readonly admin: AccountAdminStoreService
  readonly events: SecurityEventStoreService
  readonly emailChanges: EmailChangeStoreService
}

/** The tags of the ports one backend provides (the memory store's and the SQL stores' layers output them). */
export type Tags =
  | UserStore
  | CounterStore
  | OutboxStore
  | FactorStore
  | SessionDeviceStore
  | SecurityEventStore
  | EmailChangeStore
  | AccountAdminStore

/** The ports under their tags, as the stores' layers provide them. */
export const context = (
  ports: Ports
): Context.Context<Tags> =>
  Context.make(UserStore, ports.store).pipe(
    Context.add(CounterStore, ports.counters),
    Context.add(OutboxStore, ports.outbox),
    Context.add(FactorStore, ports.factors),
    Context.add(SessionDeviceStore, ports.devices),
    Context.add(SecurityEventStore, ports.events),
    Context.add(EmailChangeStore, ports.emailChanges),
    Context.add(AccountAdminStore, ports.admin)
  )
