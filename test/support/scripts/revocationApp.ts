/**
 * One app instance for the multi-process tests and the revocation benchmark, run by `instances.ts` in a Node
 * process of its own (through tsx): the whole library on `PgUserStore`, with `SessionCache.layerShared` over
 * `PgSessionInvalidation`. It answers requests from its parent over the IPC channel.
 *
 * Settings (environment): `USERHARBOR_APP_DATABASE_URL`, `USERHARBOR_APP_CHANNEL`. The cache's TTL is an hour,
 * so only the channel can make another instance refuse a revoked session in time.
 */
import { Effect, Layer, Option, Redacted, Schedule } from "effect"
import * as PgSessionInvalidation from "../../../src/PgSessionInvalidation.js"
import * as PgUserStore from "../../../src/PgUserStore.js"
import * as RecordingEmailSender from "../../../src/RecordingEmailSender.js"
import * as SessionCache from "../../../src/SessionCache.js"
import * as UserHarbor from "../../../src/UserHarbor.js"
import * as UserHarborTest from "../../../src/UserHarborTest.js"
import type { Reply, Request } from "../instances.js"

const url = Redacted.make(process.env.USERHARBOR_APP_DATABASE_URL ?? "")
const Store = SessionCache.layerShared({ ttl: "1 hour" }).pipe(
  Layer.provideMerge(PgSessionInvalidation.layer({ url, channel: process.env.USERHARBOR_APP_CHANNEL })),
  Layer.provideMerge(PgUserStore.layer({ url, maxConnections: 4 }))
)
const App = UserHarborTest.layerWithStore(Store, { throttle: { enabled: false } })

/** The wall-clock instant in milliseconds, sub-millisecond, comparable between processes on one machine. */
const now = () => performance.timeOrigin + performance.now()

const handle = (request: Request) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor.UserHarbor
    switch (request.op) {
      case "register": {
        yield* harbor.register({ username: request.username, email: request.email, password: request.password })
        const recorded = yield* RecordingEmailSender.RecordingEmailSender
        const token = yield* recorded.lastToken("VerificationEmail", request.email)
        yield* harbor.verifyEmail(Option.getOrThrow(token))
        return null
      }
      case "login": {
        const session = yield* harbor.login({ email: request.email, password: request.password })
        return Redacted.value(session.token)
      }
      case "check":
        return yield* harbor.verifySession(request.token)
      case "waitRefused": {
        // Polls the cached check until it refuses; answers when it refused.
        yield* harbor.verifySession(request.token).pipe(
          Effect.repeat({ while: (valid) => valid, schedule: Schedule.spaced("1 millis") }),
          Effect.timeout(request.timeoutMs)
        )
        return now()
      }
      case "logout":
        yield* harbor.logout(request.token)
        return now()
      case "logoutAll":
        yield* harbor.logoutAll(request.token)
        return now()
      case "changePassword": {
        yield* harbor.changePassword({
          sessionToken: request.token,
          oldPassword: request.oldPassword,
          newPassword: request.newPassword
        })
        return now()
      }
    }
  })

const main = Effect.gen(function*() {
  const context = yield* Layer.build(App)
  const send = (reply: Reply) => Effect.sync(() => process.send?.(reply))
  process.on("message", (request: Request) => {
    void Effect.runPromise(
      handle(request).pipe(
        Effect.provide(context),
        Effect.matchEffect({
          onSuccess: (value) => send({ id: request.id, ok: true, value }),
          onFailure: (error) => send({ id: request.id, ok: false, error: String(error) })
        })
      )
    )
  })
  process.on("disconnect", () => process.exit(0))
  yield* send({ id: -1, ok: true, value: "ready" })
  yield* Effect.never
})

Effect.runFork(Effect.scoped(main))
