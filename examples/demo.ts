/**
 * `npm run demo`: the whole account flow of the Python userharbor README, on an embedded SQLite file under
 * `./.data/`, with email going through the transactional outbox and printed to the console. The demo reads each
 * token out of the email it just "sent", as a user would by clicking the link.
 *
 * An app adds `OutboxWorker.layer()` to deliver in the background; the demo drains the outbox by hand after each
 * step instead, so the printed emails appear next to the step that queued them.
 */
import { Console, Context, Effect, Layer, Option, Redacted } from "effect"
import { mkdirSync, rmSync } from "node:fs"
import * as Argon2Hasher from "../src/Argon2Hasher.js"
import * as ConsoleEmailSender from "../src/ConsoleEmailSender.js"
import { EmailSender } from "../src/EmailSender.js"
import * as OutboxWorker from "../src/OutboxWorker.js"
import * as RecordingEmailSender from "../src/RecordingEmailSender.js"
import * as SecureRandom from "../src/SecureRandom.js"
import * as SqliteUserStore from "../src/SqliteUserStore.js"
import * as UserHarbor from "../src/UserHarbor.js"
import * as UserHarborConfig from "../src/UserHarborConfig.js"

const databaseFile = ".data/demo.db"

// Prints every message like the console sender and also keeps it, so the demo can follow the links.
const DemoMailer = Layer.effectContext(Effect.gen(function*() {
  const { recorder, sender } = yield* RecordingEmailSender.make
  const printer = ConsoleEmailSender.make({
    appName: "UserHarbor demo",
    // Tokens travel in the URL fragment, which browsers never send to a server (so no access log holds one).
    verificationUrl: (token) => `https://app.example/verify#${token}`,
    resetUrl: (token) => `https://app.example/reset#${token}`
  })
  const tee = EmailSender.of({ send: (message) => Effect.zipRight(printer.send(message), sender.send(message)) })
  return Context.make(EmailSender, tee).pipe(Context.add(RecordingEmailSender.RecordingEmailSender, recorder))
}))

const Services = Layer.mergeAll(
  SqliteUserStore.layer({ filename: databaseFile }),
  DemoMailer,
  Argon2Hasher.layer(),
  SecureRandom.layer,
  // A demo key: a real app reads USERHARBOR_SECRET_KEY through UserHarborConfig.layerConfig()
  UserHarborConfig.layer({ secretKey: Redacted.make("demo-secret-key-do-not-use-in-production!") })
)

const DemoLive = UserHarbor.layerOutbox.pipe(Layer.provideMerge(Services))

// Sends whatever the last step queued (each message was written in the same transaction as its data).
const deliver = Effect.flatMap(OutboxWorker.make(), (worker) => worker.drain).pipe(Effect.orDie)

const step = (title: string) => Console.log(`\n\x1b[1m== ${title}\x1b[0m`)

const lastToken = (kind: "VerificationEmail" | "PasswordResetEmail", email: string) =>
  Effect.flatMap(RecordingEmailSender.RecordingEmailSender, (mail) => mail.lastToken(kind, email)).pipe(
    Effect.map(Option.getOrThrowWith(() => new Error(`no ${kind} was sent to ${email}`)))
  )

const program = Effect.gen(function*() {
  const harbor = yield* UserHarbor.UserHarborOutbox
  const email = "jane@example.com"

  yield* step("register jane")
  yield* harbor.register({ username: "jane", email, password: "StrongPassword123!" })
  yield* deliver

  yield* step("login before verifying the email")
  const early = yield* Effect.flip(harbor.login({ username: "jane", password: "StrongPassword123!" }))
  yield* Console.log(`refused: ${early._tag}`)

  yield* step("verify the email with the token from the message")
  yield* harbor.verifyEmail(yield* lastToken("VerificationEmail", email))
  yield* Console.log("verified")

  yield* step("login")
  const session = yield* harbor.login({ username: "jane", password: "StrongPassword123!" })
  yield* Console.log(`session ${session.id}, token ${session.token}, expires ${session.expiresAt.toISOString()}`)

  yield* step("verify the session and get the current user")
  yield* Console.log(`verifySession: ${yield* harbor.verifySession(session.token)}`)
  const user = yield* harbor.getCurrentUser(session.token)
  yield* Console.log(`current user: ${user.username} <${user.email}>, verified: ${user.verified}`)

  yield* step("a wrong password and an unknown user get the same error")
  const wrong = yield* Effect.flip(harbor.login({ username: "jane", password: "not the password" }))
  const unknown = yield* Effect.flip(harbor.login({ username: "nobody", password: "not the password" }))
  yield* Console.log(`${wrong._tag} / ${unknown._tag}`)

  yield* step("logout")
  yield* harbor.logout(session.token)
  yield* Console.log(`verifySession after logout: ${yield* harbor.verifySession(session.token)}`)

  yield* step("change password (revokes every other session)")
  const again = yield* harbor.login({ email, password: "StrongPassword123!" })
  const fresh = yield* harbor.changePassword({
    sessionToken: again.token,
    oldPassword: "StrongPassword123!",
    newPassword: "EvenStrongerPassword123!"
  })
  yield* deliver
  const oldValid = yield* harbor.verifySession(again.token)
  yield* Console.log(`old session valid: ${oldValid}, fresh session valid: ${yield* harbor.verifySession(fresh.token)}`)

  yield* step("forgotten password: request a reset")
  yield* harbor.sendPasswordReset(email)
  yield* deliver

  yield* step("a weak new password is refused and does not burn the token")
  const resetToken = yield* lastToken("PasswordResetEmail", email)
  const weak = yield* Effect.flip(harbor.resetPassword({ token: resetToken, newPassword: "password123" }))
  yield* Console.log(`refused: ${weak._tag} (${weak._tag === "WeakPassword" ? weak.reasons.join(", ") : ""})`)

  yield* step("reset the password")
  yield* harbor.resetPassword({ token: resetToken, newPassword: "NewStrongPassword123!" })
  yield* deliver
  yield* Console.log(`fresh session after reset: ${yield* harbor.verifySession(fresh.token)}`)

  yield* step("delete the account")
  const last = yield* harbor.login({ username: "jane", password: "NewStrongPassword123!" })
  yield* harbor.deleteAccount({ sessionToken: last.token, password: "NewStrongPassword123!" })
  yield* deliver
  const gone = yield* Effect.flip(harbor.login({ username: "jane", password: "NewStrongPassword123!" }))
  yield* Console.log(`login after deletion: ${gone._tag}`)

  yield* step(`done: the data lived in ${databaseFile}`)
})

mkdirSync(".data", { recursive: true })
rmSync(databaseFile, { force: true })
rmSync(`${databaseFile}-wal`, { force: true })
rmSync(`${databaseFile}-shm`, { force: true })

Effect.runPromise(program.pipe(Effect.provide(DemoLive))).catch((error) => {
  console.error(error)
  process.exit(1)
})
