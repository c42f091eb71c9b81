/**
 * The storage port for the email outbox, a queue with leases. Only outbox mode (`UserHarbor.layerOutbox`) and
 * `OutboxWorker` use it; an app in inline mode needs no store that provides it.
 *
 * The contract (checked by the outbox cases of `StoreConformance`):
 * - `enqueueEmail` inside the `UserStore`'s `withTransaction` belongs to that transaction.
 * - `claimEmails` hands each due row to one claimer; a claim whose lease ended can be taken over (a crashed
 *   worker); only the current holder may complete, retry or drop a row.
 * - Outbox rows belong to no user: deleting a user leaves them (the account-deleted notice must still go out).
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { StoreError } from "./Errors.js"

/**
 * A message waiting in the email outbox. `payload` is opaque to the store: UserHarbor writes it encrypted and
 * authenticated (AES-256-GCM under a key derived from the secret key, the `id` as associated data), so the store
 * never holds a raw token. Rows are deleted once delivered or given up. A claim (worker id and lease end) is
 * the store's own business and not part of the record.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutboxRecord {
  readonly id: string
  readonly payload: string
  readonly createdAt: number
  /** Failed delivery attempts so far. */
  readonly attempts: number
  readonly nextAttemptAt: number
}

/**
 * A claimed message, named by its id and the worker holding the claim.
 *
 * @since 0.3.0
 * @category models
 */
export interface Claimed {
  readonly id: string
  readonly workerId: string
}

/**
 * The messages waiting in the outbox at one instant, counted for an operator (`userharbor outbox status`).
 *
 * @since 0.3.0
 * @category models
 */
export interface OutboxSummary {
  /** Messages neither delivered nor given up. */
  readonly waiting: number
  /** Due (`nextAttemptAt <= now`) and not held by a live claim: what the next poll takes. */
  readonly due: number
  /** Held by a live claim (its lease ends after `now`): being sent. */
  readonly claimed: number
  /** Failed at least once (`attempts > 0`). */
  readonly failed: number
  /** When the oldest waiting message was written; none when nothing waits. */
  readonly oldestCreatedAt: Option.Option<number>
}

/**
 * The shape of the `OutboxStore` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface OutboxStoreService {
  /** Adds a message to the outbox; run it inside the transaction that writes the data the message is about. */
  readonly enqueueEmail: (email: OutboxRecord) => Effect.Effect<void, StoreError>
  /**
   * Atomically claims up to `limit` messages that are due (`nextAttemptAt <= now`) and not held by a live claim
   * (none, or one whose lease ended at or before `now`), oldest due first, for `workerId` until `now + leaseMs`.
   * Of two concurrent claimers, each row goes to one of them.
   */
  readonly claimEmails: (
    claim: { readonly now: number; readonly limit: number; readonly leaseMs: number; readonly workerId: string }
  ) => Effect.Effect<ReadonlyArray<OutboxRecord>, StoreError>
  /** Deletes a delivered message; `false` (and no change) unless `workerId` still holds its claim. */
  readonly completeEmail: (claimed: Claimed) => Effect.Effect<boolean, StoreError>
  /** Releases the claim and schedules another attempt; `false` (and no change) unless `workerId` holds the claim. */
  readonly retryEmail: (
    retry: Claimed & { readonly attempts: number; readonly nextAttemptAt: number }
  ) => Effect.Effect<boolean, StoreError>
  /** Deletes a message that will never be delivered; `false` (and no change) unless `workerId` holds the claim. */
  readonly dropEmail: (claimed: Claimed) => Effect.Effect<boolean, StoreError>
  /** Counts the waiting messages as of `now` (reads only). */
  readonly summarizeEmails: (at: { readonly now: number }) => Effect.Effect<OutboxSummary, StoreError>
  /**
   * Makes waiting messages due at `now`, all of them or only the one with `id`, for an operator who fixed the
   * mail server and does not want to wait for the backoff. Messages already due and those held by a live claim
   * are left alone, and `attempts` is kept. Returns how many messages changed.
   */
  readonly retryEmailsNow: (
    retry: { readonly now: number; readonly id?: string | undefined }
  ) => Effect.Effect<number, StoreError>
}

/**
 * @since 0.3.0
 * @category tags
 */
export class OutboxStore extends Context.Tag("userharbor/OutboxStore")<OutboxStore, OutboxStoreService>() {}
