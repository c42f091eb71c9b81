import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { type EmailMessage, EmailSender, type Recipient } from "../EmailSender.js"
import type { EmailDeliveryError, StoreError } from "../Errors.js"
import { OutboxStore } from "../OutboxStore.js"
import { SecureRandom } from "../SecureRandom.js"
import { UserHarborConfig } from "../UserHarborConfig.js"
import type { UserRecord } from "../UserStore.js"
import * as OutboxCrypto from "./outboxCrypto.js"

/**
 * How the core hands a message over. Each method runs inside the store transaction that writes the data the
 * message is about, and returns what to run after that transaction commits: so nothing goes out before the commit
 * and a rolled-back transaction sends nothing.
 *
 * `E` is what the after-commit step can fail with: `EmailDeliveryError` inline, `never` with the outbox.
 */
export interface Delivery<E> {
  /** A message whose delivery the caller waits for (the token messages and the registration attempt notice). */
  readonly stage: (message: EmailMessage) => Effect.Effect<Effect.Effect<void, E>, StoreError>
  /** A notice: the operation already succeeded, so a failed delivery is logged, never returned. */
  readonly notice: (message: EmailMessage) => Effect.Effect<Effect.Effect<void>, StoreError>
  /**
   * The same work as `stage` for a message that must not go out (a request about an address with no account), so
   * both kinds of request cost the same. Inline there is nothing to imitate but an SMTP session, which would reach
   * the address: it does nothing, and the inline mode's timing reveals which addresses have an account.
   */
  readonly decoy: (message: EmailMessage) => Effect.Effect<Effect.Effect<void, E>, StoreError>
}

/** Where a message about an account goes. */
export const recipient = (record: UserRecord): Recipient => ({ username: record.username, email: record.email })

const after = <E>(effect: Effect.Effect<void, E>): Effect.Effect<Effect.Effect<void, E>> => Effect.succeed(effect)

/**
 * Sends through the `EmailSender` once the transaction has committed.
 */
export const inline: Effect.Effect<Delivery<EmailDeliveryError>, never, EmailSender> = Effect.map(
  EmailSender,
  (sender): Delivery<EmailDeliveryError> => ({
    stage: (message) => after(sender.send(message)),
    notice: (message) =>
      after(
        sender.send(message).pipe(
          Effect.catchTag("EmailDeliveryError", (error) =>
            // The operation already committed; failing it now would tell the caller something false.
            Effect.logWarning("UserHarbor: notice not delivered").pipe(
              Effect.annotateLogs({ message: message._tag, reason: error.reason })
            ))
        )
      ),
    decoy: () => after(Effect.void)
  })
)

/**
 * Writes an encrypted outbox row in the transaction; the `OutboxWorker` delivers it. Nothing is left to do after
 * the commit, so the operation cannot fail with a delivery error.
 */
export const outbox: Effect.Effect<Delivery<never>, never, OutboxStore | UserHarborConfig | SecureRandom> = Effect.gen(
  function*() {
    const outbox = yield* OutboxStore
    const random = yield* SecureRandom
    const crypto = OutboxCrypto.make((yield* UserHarborConfig).secretKey)
    const enqueue = (decoy: boolean) => (message: EmailMessage) =>
      Effect.gen(function*() {
        const id = Buffer.from(yield* random.nextBytes(16)).toString("hex")
        const now = yield* Clock.currentTimeMillis
        // A decoy is sealed like a message, so it costs the same; only the worker can tell them apart.
        const payload = crypto.seal(id, { decoy, message })
        yield* outbox.enqueueEmail({ id, payload, createdAt: now, attempts: 0, nextAttemptAt: now })
        return Effect.void
      })
    return { stage: enqueue(false), notice: enqueue(false), decoy: enqueue(true) }
  }
)
