/**
 * An `EmailSender` that keeps every message instead of delivering it, so a test can read what was sent and the
 * tokens inside. It can be told to fail, to test what happens when delivery breaks.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Email from "./Email.js"
import { type EmailMessage, EmailSender } from "./EmailSender.js"
import { EmailDeliveryError } from "./Errors.js"

/**
 * The kinds of message that carry a token.
 *
 * @since 0.3.0
 * @category models
 */
export type TokenMessageKind = Extract<EmailMessage, { readonly token: unknown }>["_tag"]

/**
 * The shape of the `RecordingEmailSender` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface RecordingEmailSenderService {
  /** Every message delivered so far, oldest first. */
  readonly messages: Effect.Effect<ReadonlyArray<EmailMessage>>
  /** The raw token of the newest message of this kind to this address (compared case-insensitively). */
  readonly lastToken: (
    kind: TokenMessageKind,
    email: string
  ) => Effect.Effect<Option.Option<string>>
  /** While `true`, every `send` fails with `EmailDeliveryError` and records nothing. */
  readonly setFailing: (failing: boolean) => Effect.Effect<void>
  readonly clear: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class RecordingEmailSender
  extends Context.Tag("userharbor/RecordingEmailSender")<RecordingEmailSender, RecordingEmailSenderService>()
{}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.gen(function*() {
  const sent = yield* Ref.make<ReadonlyArray<EmailMessage>>([])
  const failing = yield* Ref.make(false)
  const sender = EmailSender.of({
    send: (message) =>
      Effect.flatMap(Ref.get(failing), (fail) =>
        fail
          ? Effect.fail(new EmailDeliveryError({ reason: "connect", detail: "recording sender set to fail" }))
          : Ref.update(sent, (all) => [...all, message]))
  })
  const recorder = RecordingEmailSender.of({
    messages: Ref.get(sent),
    lastToken: (kind, email) =>
      Effect.map(Ref.get(sent), (all) => {
        // Addresses are case-insensitive everywhere in the library: compare them by its canonical key.
        const key = Email.canonical(email.trim())
        for (let i = all.length - 1; i >= 0; i--) {
          const message = all[i]
          if (
            message !== undefined && "token" in message && message._tag === kind &&
            Email.canonical(message.to.email.trim()) === key
          ) {
            return Option.some(Redacted.value(message.token))
          }
        }
        return Option.none()
      }),
    setFailing: (value) => Ref.set(failing, value),
    clear: Ref.set(sent, [])
  })
  return { sender, recorder }
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<EmailSender | RecordingEmailSender> = Layer.effectContext(
  Effect.map(
    make,
    ({ recorder, sender }) => Context.make(EmailSender, sender).pipe(Context.add(RecordingEmailSender, recorder))
  )
)
