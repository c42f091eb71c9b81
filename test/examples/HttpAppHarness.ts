/**
 * The example app on a real socket (127.0.0.1, a free port) with SQLite in memory, fast argon2, an email sender
 * that keeps the rendered messages, and switches to make delivery or the store fail.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { createServer } from "node:http"
import { createServer as createNetServer } from "node:net"
import * as App from "../../examples/http-app/App.js"
import { AppSettings } from "../../examples/http-app/AppSettings.js"
import { passkeyOptions } from "../../examples/http-app/FactorHandlers.js"
import * as Mailer from "../../examples/http-app/Mailer.js"
import { EmailSender } from "../../src/EmailSender.js"
import * as EmailTemplates from "../../src/EmailTemplates.js"
import { EmailDeliveryError, StoreError } from "../../src/Errors.js"
import * as PasswordHasher from "../../src/PasswordHasher.js"
import * as SecureRandom from "../../src/SecureRandom.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import * as UserHarborAdmin from "../../src/UserHarborAdmin.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import { testSecretKey } from "../../src/UserHarborTest.js"
import { UserStore } from "../../src/UserStore.js"

export interface Delivered extends EmailTemplates.RenderedEmail {
  readonly to: string
}

export class TestApp extends Context.Tag("test/HttpApp")<TestApp, {
  readonly url: string
  readonly emails: Effect.Effect<ReadonlyArray<Delivered>>
  readonly setDeliveryFailing: (failing: boolean) => Effect.Effect<void>
  readonly setStoreFailing: (failing: boolean) => Effect.Effect<void>
  /** Locks the account with this address, as an admin page (or `npx userharbor user lock`) would. */
  readonly lock: (email: string) => Effect.Effect<void>
}>() {}

/**
 * A free port on 127.0.0.1, for an app whose origin must be known before it listens (the passkey config names it).
 */
const freePort = Effect.async<number>((resume) => {
  const probe = createNetServer()
  probe.listen(0, "127.0.0.1", () => {
    const address = probe.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    probe.close(() => resume(Effect.succeed(port)))
  })
})

export interface HarnessOptions
  extends Partial<Pick<App.Options<never, never, never, never>, "trustedProxies" | "secureCookies">>
{
  /**
   * Serve on `http://localhost:<port>` (still listening on 127.0.0.1) with passkeys on: WebAuthn refuses an IP
   * address as relying party. `url` is then that origin.
   */
  readonly passkeys?: boolean
}

export const layer = (
  config: Partial<UserHarborConfig.Options> = {},
  delivery: "inline" | "outbox" = "inline",
  app: HarnessOptions = {}
): Layer.Layer<TestApp> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const port = app.passkeys === true ? yield* freePort : 0
    const origin = app.passkeys === true ? `http://localhost:${port}` : undefined
    const passkeys = origin === undefined ? undefined : passkeyOptions(origin, { rpName: "UserHarbor test" })
    const mailbox = yield* Ref.make<ReadonlyArray<Delivered>>([])
    const deliveryFailing = yield* Ref.make(false)
    const storeFailing = yield* Ref.make(false)
    const sender = Layer.effect(
      EmailSender,
      Effect.map(AppSettings, (settings) => {
        const templates = EmailTemplates.make(Mailer.templates(settings.origin))
        return EmailSender.of({
          send: (message) =>
            Effect.flatMap(Ref.get(deliveryFailing), (failing) =>
              failing
                ? Effect.fail(new EmailDeliveryError({ reason: "connect" }))
                : Ref.update(mailbox, (all) => [...all, { to: message.to.email, ...templates.render(message) }]))
        })
      })
    )
    // Only the lookup by email can be broken: enough for one request to meet a failing store.
    const store = Layer.effect(
      UserStore,
      Effect.map(UserStore, (sqlite) =>
        UserStore.of({
          ...sqlite,
          findUserByEmail: (key) =>
            Effect.flatMap(
              Ref.get(storeFailing),
              (failing) =>
                failing ? Effect.fail(new StoreError({ operation: "findUserByEmail" })) : sqlite.findUserByEmail(key)
            )
        }))
    ).pipe(Layer.provideMerge(SqliteUserStore.layer({ filename: ":memory:" })))
    // Every test signs up from 127.0.0.1, more often than the default 10 registrations an hour per client.
    const harborConfig = UserHarborConfig.layer({
      secretKey: testSecretKey,
      ...(passkeys === undefined ? {} : { passkeys }),
      ...config,
      throttle: { registerLimit: 1000, ...config.throttle }
    })
    // The same layers (built once) as the app's: the admin works on the app's store.
    const admin = UserHarborAdmin.layer.pipe(Layer.provide([store, harborConfig, SecureRandom.layer]))
    const server = App.layer({
      store,
      sender,
      hasher: PasswordHasher.layerInsecureForTesting,
      config: harborConfig,
      delivery,
      origin,
      outbox: { pollInterval: "20 millis", retry: Schedule.spaced("200 millis") },
      secureCookies: app.secureCookies ?? true,
      trustedProxies: app.trustedProxies
    })
    const testApp = Layer.effect(
      TestApp,
      Effect.flatMap(UserHarborAdmin.UserHarborAdmin, (harborAdmin) =>
        HttpServer.addressFormattedWith((address) =>
          Effect.succeed(TestApp.of({
            url: origin ?? address,
            emails: Ref.get(mailbox),
            setDeliveryFailing: (failing) =>
              Ref.set(deliveryFailing, failing),
            setStoreFailing: (failing) => Ref.set(storeFailing, failing),
            lock: (email) =>
              harborAdmin.findUser({ email }).pipe(
                Effect.flatMap(({ user }) =>
                  harborAdmin.lock({ userId: user.id, actorId: "test-admin", reason: "fraud check" })
                ),
                Effect.orDie
              )
          }))
        ))
    ).pipe(Layer.provide(admin))
    return Layer.merge(server, testApp).pipe(
      Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" })),
      Layer.provide(Logger.remove(Logger.defaultLogger)),
      Layer.orDie
    )
  }))

/** The link in the newest email to `to` whose subject matches. */
export const linkIn = (
  emails: ReadonlyArray<Delivered>,
  to: string,
  page: "verify" | "reset" | "confirm-email" | "revert-email"
): string => {
  const email = emails.findLast((email) => email.to === to && email.text.includes(`/${page}#token=`))
  const link = email?.text.match(new RegExp(`https?://\\S+/${page}#token=\\S+`))?.[0]
  if (link === undefined) throw new Error(`no ${page} link for ${to}`)
  return link
}
