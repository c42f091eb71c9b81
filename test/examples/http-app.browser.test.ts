import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { mkdirSync } from "node:fs"
import type { Page } from "playwright-core"
import { describeWith } from "../support/sqlDatabases.js"
import { launch } from "./Browser.js"
import * as Harness from "./HttpAppHarness.js"

const status = (page: Page, form: string) => page.locator(`#${form} .status`)

describeWith("USERHARBOR_TEST_CHROMIUM", "example http app in a browser", (executablePath) => {
  layer(Harness.layer(), { excludeTestServices: true, timeout: "30 seconds" })((it) => {
    it.scoped(
      "signs up, verifies, signs in, changes and resets the password, signs out, deletes",
      () =>
        Effect.gen(function*() {
          const app = yield* Harness.TestApp
          const browser = yield* launch(executablePath)
          const page = yield* Effect.promise(() => browser.newPage())
          const requested: Array<string> = []
          page.on("request", (request) => requested.push(request.url()))
          const user = { username: "BrowserUser", email: "browser@example.com", password: "a first passphrase" }

          const errors: Array<string> = []
          page.on("pageerror", (error) => errors.push(error.message))
          yield* Effect.promise(async () => {
            await page.goto(`${app.url}/sign-up`)
            await page.fill("#sign-up [name=username]", user.username)
            await page.fill("#sign-up [name=email]", user.email)
            await page.fill("#sign-up [name=password]", user.password)
            await page.click("#sign-up button")
            await expect.poll(() => status(page, "sign-up").textContent()).toContain("Check your inbox")
          })

          const verifyLink = Harness.linkIn(yield* app.emails, user.email, "verify")
          const verifyToken = new URL(verifyLink).hash.slice("#token=".length)
          // What signing in answers, asked from outside the browser: 403 until the address is confirmed.
          const signInStatus = () =>
            fetch(`${app.url}/api/sessions`, {
              method: "POST",
              headers: { "content-type": "application/json", origin: app.url },
              body: JSON.stringify({ email: user.email, password: user.password })
            }).then((response) => response.status)
          yield* Effect.promise(async () => {
            // Opening the link, as a mail scanner would (scripts and all), confirms nothing.
            await page.goto(verifyLink, { waitUntil: "networkidle" })
            // The page removed the token from the address bar (and so from history).
            expect(page.url()).toBe(`${app.url}/verify`)
            expect(await signInStatus()).toBe(403)
            expect(await page.locator("#verify .status").textContent()).toBe("")
            await page.click("#verify button")
            await expect.poll(() => status(page, "verify").textContent()).toContain("confirmed")
            expect(await page.locator("#verify button").isDisabled()).toBe(true)

            await page.goto(`${app.url}/sign-in`)
            await page.fill("#sign-in [name=login]", user.email)
            await page.fill("#sign-in [name=password]", user.password)
            await page.click("#sign-in button")
            await page.waitForURL(`${app.url}/account`)
            await expect.poll(() => page.locator("[data-field=username]").textContent()).toBe(user.username)
            expect(await page.locator("[data-field=verified]").textContent()).toBe("yes")
            // The browser kept the __Host- cookie: Secure, host-only, Path=/ (http://127.0.0.1 is a secure context).
            const cookies = await page.context().cookies()
            expect(cookies.map(({ httpOnly, name, path, secure }) => ({ name, secure, httpOnly, path }))).toEqual([
              { name: "__Host-session", secure: true, httpOnly: true, path: "/" }
            ])

            await page.fill("#change-password [name=oldPassword]", user.password)
            await page.fill("#change-password [name=newPassword]", "a second passphrase")
            await page.click("#change-password button")
            await expect.poll(() => status(page, "change-password").textContent()).toContain("Password changed")
            // The new session's cookie replaced the old one: the account still loads.
            await page.reload()
            await expect.poll(() => page.locator("[data-field=email]").textContent()).toBe(user.email)

            await page.click("#sign-out-everywhere button")
            await page.waitForURL(`${app.url}/sign-in`)
            await page.goto(`${app.url}/account`)
            await page.waitForURL(`${app.url}/sign-in`)

            await page.goto(`${app.url}/forgot-password`)
            await page.fill("#forgot-password [name=email]", user.email)
            await page.click("#forgot-password button")
            await expect.poll(() => status(page, "forgot-password").textContent()).toContain("reset link")
          })

          const resetLink = Harness.linkIn(yield* app.emails, user.email, "reset")
          const resetToken = new URL(resetLink).hash.slice("#token=".length)
          yield* Effect.promise(async () => {
            await page.goto(resetLink)
            expect(page.url()).toBe(`${app.url}/reset`)
            await page.fill("#reset [name=newPassword]", "a third passphrase")
            await page.click("#reset button")
            await expect.poll(() => status(page, "reset").textContent()).toContain("password is changed")

            await page.goto(`${app.url}/sign-in`)
            await page.fill("#sign-in [name=login]", user.username)
            await page.fill("#sign-in [name=password]", "a second passphrase")
            await page.click("#sign-in button")
            await expect.poll(() => status(page, "sign-in").textContent()).toBe("Invalid credentials")
            await page.fill("#sign-in [name=password]", "a third passphrase")
            await page.click("#sign-in button")
            await page.waitForURL(`${app.url}/account`)
            await expect.poll(() => page.locator("[data-field=username]").textContent()).toBe(user.username)

            // A second device (its own cookie jar) signs in: the account page lists both sessions.
            const other = await browser.newContext()
            const otherPage = await other.newPage()
            await otherPage.goto(`${app.url}/sign-in`)
            await otherPage.fill("#sign-in [name=login]", user.email)
            await otherPage.fill("#sign-in [name=password]", "a third passphrase")
            await otherPage.click("#sign-in button")
            await otherPage.waitForURL(`${app.url}/account`)
            await page.reload()
            const sessions = page.locator("#sessions li")
            await expect.poll(() => sessions.count()).toBe(2)
            expect(await sessions.filter({ hasText: "This device" }).count()).toBe(1)
            // Each named by its browser, from the User-Agent the sign-in sent (headless Chromium reads as Chrome).
            expect(await sessions.filter({ hasText: /Chrome on Linux · (127\.0\.0\.0\/24|::\/48)/ }).count()).toBe(2)
            expect(await sessions.locator("button", { hasText: "Sign out" }).count()).toBe(1)
            mkdirSync("test-results", { recursive: true })
            await page.screenshot({ path: "test-results/account-page.png", fullPage: true })

            // "Sign out" on the other one ends it: the list shrinks and the other device is sent to sign in.
            await sessions.locator("button", { hasText: "Sign out" }).click()
            await expect.poll(() => page.locator("#sessions-status").textContent()).toContain("signed out")
            await expect.poll(() => sessions.count()).toBe(1)
            expect(await page.locator("#sign-out-others button").isDisabled()).toBe(true)
            await otherPage.goto(`${app.url}/account`)
            await otherPage.waitForURL(`${app.url}/sign-in`)
            await other.close()

            await page.fill("#delete-account [name=password]", "a third passphrase")
            await page.click("#delete-account button")
            await page.waitForURL(`${app.url}/sign-up`)
            await page.goto(`${app.url}/sign-in`)
            await page.fill("#sign-in [name=login]", user.email)
            await page.fill("#sign-in [name=password]", "a third passphrase")
            await page.click("#sign-in button")
            await expect.poll(() => status(page, "sign-in").textContent()).toBe("Invalid credentials")
          })

          // Tokens travelled only in fragments and POST bodies: no request URL carried one.
          expect(requested.length).toBeGreaterThan(10)
          expect(requested.filter((url) => url.includes(verifyToken) || url.includes(resetToken))).toEqual([])
          expect(errors).toEqual([])
          const subjects = (yield* app.emails).map((email) => email.subject)
          expect(subjects).toHaveLength(5)
        }),
      { timeout: 60_000 }
    )
  })
})
