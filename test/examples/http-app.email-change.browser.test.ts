/**
 * The example app's change of email address in a browser: the request on the account page, the link mailed to the
 * new address (opened on a device without a session), sign-in with the new address, and the revert link mailed to
 * the old one, which signs every device out.
 */
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { Page } from "playwright-core"
import { describeWith } from "../support/sqlDatabases.js"
import { launch } from "./Browser.js"
import * as Harness from "./HttpAppHarness.js"

const status = (page: Page, form: string) => page.locator(`#${form} .status`)

const signIn = async (page: Page, url: string, login: string, password: string) => {
  await page.goto(`${url}/sign-in`)
  await page.fill("#sign-in [name=login]", login)
  await page.fill("#sign-in [name=password]", password)
  await page.click("#sign-in button")
}

describeWith("USERHARBOR_TEST_CHROMIUM", "example http app in a browser: change of email", (executablePath) => {
  layer(Harness.layer(), { excludeTestServices: true, timeout: "30 seconds" })((it) => {
    it.scoped(
      "requests a change, confirms it from the mail, signs in with the new address, then reverts it",
      () =>
        Effect.gen(function*() {
          const app = yield* Harness.TestApp
          const browser = yield* launch(executablePath)
          const page = yield* Effect.promise(() => browser.newPage())
          const requested: Array<string> = []
          const errors: Array<string> = []
          page.on("request", (request) => requested.push(request.url()))
          page.on("pageerror", (error) => errors.push(error.message))
          const user = { username: "Mover", email: "mover@example.com", password: "a moving passphrase" }
          const newEmail = "mover.new@example.org"
          const post = (path: string, body: unknown) =>
            fetch(`${app.url}${path}`, {
              method: "POST",
              headers: { "content-type": "application/json", origin: app.url },
              body: JSON.stringify(body)
            }).then((response) => response.status)

          // The account, signed up and verified through the API (the other browser test covers those pages).
          expect(yield* Effect.promise(() => post("/api/accounts", user))).toBe(202)
          const verifyToken = new URL(Harness.linkIn(yield* app.emails, user.email, "verify")).hash.slice(7)
          expect(yield* Effect.promise(() => post("/api/accounts/verify-email", { token: verifyToken }))).toBe(204)

          const other = yield* Effect.promise(() => browser.newContext())
          const otherPage = yield* Effect.promise(() => other.newPage())
          yield* Effect.promise(async () => {
            await signIn(page, app.url, user.email, user.password)
            await page.waitForURL(`${app.url}/account`)
            await signIn(otherPage, app.url, user.username, user.password)
            await otherPage.waitForURL(`${app.url}/account`)

            await page.fill("#change-email [name=newEmail]", newEmail)
            await page.fill("#change-email [name=password]", "not the password")
            await page.click("#change-email button")
            await expect.poll(() => status(page, "change-email").textContent()).toBe("Invalid credentials")
            await page.fill("#change-email [name=password]", user.password)
            await page.click("#change-email button")
            await expect.poll(() => status(page, "change-email").textContent()).toContain("Check the new address")
            await expect.poll(() => page.locator("#email-pending").textContent()).toContain(newEmail)
            // Nothing moved yet.
            expect(await page.locator("[data-field=email]").textContent()).toBe(user.email)
          })

          const confirmLink = Harness.linkIn(yield* app.emails, newEmail, "confirm-email")
          const confirmToken = new URL(confirmLink).hash.slice("#token=".length)
          // The link is opened where there is no session: a fresh browser context.
          const mailbox = yield* Effect.promise(() => browser.newContext())
          const mailPage = yield* Effect.promise(() => mailbox.newPage())
          mailPage.on("request", (request) => requested.push(request.url()))
          yield* Effect.promise(async () => {
            // Opening the link, as a mail scanner would, changes nothing: the button does.
            await mailPage.goto(confirmLink, { waitUntil: "networkidle" })
            expect(mailPage.url()).toBe(`${app.url}/confirm-email`)
            await page.reload()
            await expect.poll(() => page.locator("[data-field=email]").textContent()).toBe(user.email)
            await mailPage.click("#confirm-email button")
            await expect.poll(() => status(mailPage, "confirm-email").textContent()).toContain("confirmed")
            expect(await mailPage.locator("#confirm-email button").isDisabled()).toBe(true)

            // The session that asked keeps going, with the new address; the other device is signed out.
            await page.reload()
            await expect.poll(() => page.locator("[data-field=email]").textContent()).toBe(newEmail)
            expect(await page.locator("#email-pending").isHidden()).toBe(true)
            await otherPage.goto(`${app.url}/account`)
            await otherPage.waitForURL(`${app.url}/sign-in`)

            // Sign in with the new address; the old one no longer opens the account.
            await page.click("#sign-out button")
            await page.waitForURL(`${app.url}/sign-in`)
            await signIn(page, app.url, user.email, user.password)
            await expect.poll(() => status(page, "sign-in").textContent()).toBe("Invalid credentials")
            await signIn(page, app.url, newEmail, user.password)
            await page.waitForURL(`${app.url}/account`)
            await expect.poll(() => page.locator("[data-field=username]").textContent()).toBe(user.username)
          })

          // The old address was told, with a link that undoes the change.
          const revertLink = Harness.linkIn(yield* app.emails, user.email, "revert-email")
          const revertToken = new URL(revertLink).hash.slice("#token=".length)
          yield* Effect.promise(async () => {
            await mailPage.goto(revertLink)
            expect(mailPage.url()).toBe(`${app.url}/revert-email`)
            await mailPage.click("#revert-email button")
            await expect.poll(() => status(mailPage, "revert-email").textContent()).toContain("old address is back")
            // Every device is signed out, this one too.
            await page.goto(`${app.url}/account`)
            await page.waitForURL(`${app.url}/sign-in`)
            await signIn(page, app.url, user.email, user.password)
            await page.waitForURL(`${app.url}/account`)
            await expect.poll(() => page.locator("[data-field=email]").textContent()).toBe(user.email)
          })
          yield* Effect.promise(() => Promise.all([other.close(), mailbox.close()]))

          // Tokens travelled only in fragments and POST bodies: no request URL carried one.
          expect(requested.filter((url) => url.includes(confirmToken) || url.includes(revertToken))).toEqual([])
          expect(errors).toEqual([])
          const subjects = (yield* app.emails).map((email) => `${email.to}: ${email.subject}`)
          expect(subjects).toEqual([
            "mover@example.com: Confirm your email address for UserHarbor example",
            "mover.new@example.org: Confirm your new email address for UserHarbor example",
            "mover@example.com: The email address of your UserHarbor example account was changed"
          ])
        }),
      { timeout: 60_000 }
    )
  })
})
