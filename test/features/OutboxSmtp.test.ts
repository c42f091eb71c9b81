/**
 * The outbox against a real SMTP server (the `smtp-server` package) and a real SQLite store: a mail server that is
 * down during `register` and comes back on the same port, and a worker interrupted in the middle of an SMTP
 * session.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Metric, Option, Schedule, Scope } from "effect"
import * as Metrics from "../../src/Metrics.js"
import * as OutboxWorker from "../../src/OutboxWorker.js"
import * as SmtpEmailSender from "../../src/SmtpEmailSender.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import { UserHarborOutbox } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { EmailKey, UserStore } from "../../src/UserStore.js"
import * as SmtpTestServer from "../support/SmtpTestServer.js"

const password = "Correct-Horse-Battery-9"
const alice = { username: "alice", email: "alice@example.com", password }

const smtp = (port: number) =>
  SmtpEmailSender.layer({
    host: "127.0.0.1",
    port,
    security: "insecure-plaintext-for-local-testing-only",
    from: { address: "noreply@app.example" },
    templates: { verificationUrl: (token) => `https://app.example/verify#${token}` },
    timeouts: { connection: "1 second", greeting: "1 second", socket: "2 seconds", send: "5 seconds" }
  }).pipe(Layer.orDie)

// A fast worker on the real SMTP sender (the kit's recording sender is only its default).
const worker = (port: number, options: OutboxWorker.Options = {}) =>
  OutboxWorker.layer({ pollInterval: "50 millis", retry: Schedule.spaced("200 millis"), ...options }).pipe(
    Layer.provide(smtp(port)),
    Layer.orDie
  )

const kit = UserHarborTest.layerOutboxWithStore(SqliteUserStore.layer({ filename: ":memory:" }).pipe(Layer.orDie))

const waitUntil = <E, R>(
  what: string,
  condition: Effect.Effect<boolean, E, R>,
  timeout: Duration.DurationInput = "10 seconds"
) =>
  condition.pipe(
    Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced("25 millis") }),
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new Error(`timed out waiting: ${what}`) }),
    Effect.orDie
  )

const count = (metric: typeof Metrics.outboxFailedAttempts) => Effect.map(Metric.value(metric), (s) => s.count)

const tokenIn = (raw: string): string => {
  const text = SmtpTestServer.partOf(SmtpTestServer.parseMessage(raw), "text/plain")
  const match = /verify#([A-Za-z0-9_-]{43})/.exec(text)
  assert.isNotNull(match, "the message carries the verification link")
  return match?.[1] ?? ""
}

describe("outbox with a real SMTP server", () => {
  it.live(
    "mail server down during register: the account exists unverified, the mail goes out once it is back",
    () =>
      Effect.gen(function*() {
        const certificate = yield* SmtpTestServer.certificate
        // Learn a free port, then leave it closed: the mail server is down.
        const port = yield* Effect.scoped(
          Effect.map(SmtpTestServer.start({ certificate, noStartTls: true }), (server) => server.port)
        )
        const harbor = yield* UserHarborOutbox
        const store = yield* UserStore
        const failedBefore = yield* count(Metrics.outboxFailedAttempts)
        yield* Layer.build(worker(port))

        yield* harbor.register(alice)
        const user = Option.getOrThrow(yield* store.findUserByEmail(EmailKey.make(alice.email)))
        assert.isFalse(user.verified)
        // The worker keeps trying while the server is down.
        const failed = count(Metrics.outboxFailedAttempts)
        yield* waitUntil("two failed attempts", Effect.map(failed, (n) => n >= failedBefore + 2))

        const server = yield* SmtpTestServer.start({ certificate, noStartTls: true, port })
        yield* waitUntil("the message", Effect.map(server.received, (all) => all.length >= 1))
        const [received] = yield* server.received
        assert.deepStrictEqual(received?.rcptTo, [alice.email])
        yield* harbor.verifyEmail(tokenIn(received?.raw ?? ""))
        assert.isTrue(Option.getOrThrow(yield* store.findUserByEmail(EmailKey.make(alice.email))).verified)
        // Delivered once: later polls find nothing.
        yield* Effect.sleep("500 millis")
        assert.strictEqual((yield* server.received).length, 1)
      }).pipe(Effect.scoped, Effect.provide(kit)),
    30_000
  )

  it.live(
    "a worker interrupted in the middle of an SMTP session: delivered later by another, exactly once",
    () =>
      Effect.gen(function*() {
        const certificate = yield* SmtpTestServer.certificate
        const harbor = yield* UserHarborOutbox
        const sql = yield* SqlClient.SqlClient
        // A server that accepts the connection and never answers: the first worker hangs mid-delivery.
        const silent = yield* SmtpTestServer.silentServer
        yield* harbor.register(alice)
        const scope = yield* Scope.make()
        // A lease of an hour: the message comes back quickly only if the interrupted worker releases its claim.
        yield* Layer.buildWithScope(worker(silent.port, { lease: "1 hour" }), scope)
        yield* waitUntil("the first worker connected", Effect.map(silent.connections, (n) => n >= 1))
        const claimed = yield* sql`SELECT attempts, claimed_by FROM userharbor_outbox`.pipe(Effect.orDie)
        assert.strictEqual(claimed.length, 1)
        assert.isNotNull(claimed[0]?.claimed_by, "claimed while the session hangs")
        yield* Scope.close(scope, Exit.void)

        // Released, and the interrupted attempt does not count as a failure.
        const released = yield* sql`SELECT attempts, claimed_by FROM userharbor_outbox`.pipe(Effect.orDie)
        assert.deepStrictEqual(released.map((row) => [Number(row.attempts), row.claimed_by]), [[0, null]])

        const server = yield* SmtpTestServer.start({ certificate, noStartTls: true })
        yield* Layer.build(worker(server.port))
        yield* waitUntil("the message", Effect.map(server.received, (all) => all.length >= 1))
        yield* Effect.sleep("500 millis")
        assert.strictEqual((yield* server.received).length, 1)
        assert.deepStrictEqual(yield* sql`SELECT id FROM userharbor_outbox`.pipe(Effect.orDie), [])
      }).pipe(Effect.scoped, Effect.provide(kit)),
    30_000
  )
})
