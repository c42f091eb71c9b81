import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { mkdirSync } from "node:fs"
import type { Browser, Page } from "playwright-core"
import { describeWith } from "../support/sqlDatabases.js"
import { launch } from "./Browser.js"
import * as Harness from "./HttpAppHarness.js"
import { newUser, request, totpCode, verifyAndSignIn } from "./HttpClient.js"

// The app is on http://localhost:<port> (WebAuthn needs a host name); it listens on 127.0.0.1 only.
const chromiumArgs = ["--host-resolver-rules=MAP localhost 127.0.0.1"]

const status = (page: Page, form: string) => page.locator(`#${form} .status`)

// An account registered and verified through the API: the browser tests start at the sign-in page.
const verifiedUser = Effect.gen(function*() {
  const app = yield* Harness.TestApp
  const user = newUser()
  expect((yield* request(app.url, "POST", "/api/accounts", { body: user })).status).toBe(202)
  yield* verifyAndSignIn(user)
  return user
})

// A fresh page that records uncaught errors and console errors such as CSP violations; failed requests are left
// out (the app's own 401s, the absent favicon).
const newPage = (browser: Browser) =>
  Effect.promise(async () => {
    const page = await browser.newPage()
    const problems: Array<string> = []
    page.on("pageerror", (error) => problems.push(error.message))
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        problems.push(message.text())
      }
    })
    return { page, problems }
  })

// The app, a verified user, and a fresh page in a new Chromium (closed with the test's scope).
const start = (executablePath: string) =>
  Effect.gen(function*() {
    const app = yield* Harness.TestApp
    const user = yield* verifiedUser
    const { page, problems } = yield* newPage(yield* launch(executablePath, chromiumArgs))
    return { app, user, page, problems }
  })

const submitPassword = async (page: Page, url: string, login: string, password: string) => {
  await page.goto(`${url}/sign-in`)
  await page.fill("#sign-in [name=login]", login)
  await page.fill("#sign-in [name=password]", password)
  await page.click("#sign-in button")
}

const signOut = async (page: Page, url: string) => {
  await page.goto(`${url}/account`)
  await page.click("#sign-out button")
  await page.waitForURL(`${url}/sign-in`)
}

describeWith("USERHARBOR_TEST_CHROMIUM", "example http app in a browser: second factors", (executablePath) => {
  layer(Harness.layer({}, "inline", { passkeys: true }), { excludeTestServices: true, timeout: "30 seconds" })((it) => {
    it.scoped(
      "enrols TOTP from the settings page, then signs in with the password and a code",
      () =>
        Effect.gen(function*() {
          const { app, page, problems, user } = yield* start(executablePath)
          yield* Effect.promise(async () => {
            await submitPassword(page, app.url, user.email, user.password)
            await page.waitForURL(`${app.url}/account`)
            await page.click("a[href='/settings']")
            await page.waitForURL(`${app.url}/settings`)
            await expect.poll(() => page.locator("#totp-state").textContent()).toBe("Off")

            await page.fill("#totp-begin [name=password]", user.password)
            await page.click("#totp-begin button")
            await page.locator("#totp-setup").waitFor({ state: "visible" })
            // The QR code is drawn (an inline SVG with the modules as a path), and the key is there to type in.
            expect(await page.locator("#totp-qr svg path").count()).toBeGreaterThan(0)
            const box = await page.locator("#totp-qr svg").boundingBox()
            expect(box?.width).toBeGreaterThan(100)
            const secret = (await page.locator("#totp-secret").textContent()) ?? ""
            expect(secret).toMatch(/^[A-Z2-7]{32}$/)
            mkdirSync("test-results", { recursive: true })
            await page.screenshot({ path: "test-results/totp-setup.png", fullPage: true })

            await page.fill("#totp-confirm [name=code]", "000000")
            await page.click("#totp-confirm button")
            await expect.poll(() => status(page, "totp-confirm").textContent()).toBe("Invalid code")
            await page.fill("#totp-confirm [name=code]", totpCode(secret))
            await page.click("#totp-confirm button")
            await page.locator("#recovery").waitFor({ state: "visible" })
            await expect.poll(() => page.locator("#recovery-codes li").count()).toBe(10)
            expect(await page.locator("#recovery-codes li").first().textContent()).toMatch(/^[0-9a-z]{5}-[0-9a-z]{5}$/)
            await expect.poll(() => page.locator("#totp-state").textContent()).toContain("10 recovery codes left")
            // The key and the QR code are gone from the page once confirmed.
            expect(await page.locator("#totp-setup").isVisible()).toBe(false)
            expect(await page.locator("#totp-qr svg").count()).toBe(0)
            // Shown once: a reload shows the state, not the codes.
            await page.reload()
            await expect.poll(() => page.locator("#totp-state").textContent()).toContain("On since")
            expect(await page.locator("#recovery").isVisible()).toBe(false)

            await signOut(page, app.url)
            await submitPassword(page, app.url, user.username, user.password)
            await page.locator("#second-factor").waitFor({ state: "visible" })
            expect(await page.locator("#sign-in").isVisible()).toBe(false)
            // No session yet: the account page sends the browser back.
            expect(await page.context().cookies()).toEqual([])
            await page.fill("#second-factor [name=code]", "000000")
            await page.click("#second-factor button")
            await expect.poll(() => status(page, "second-factor").textContent()).toBe("Invalid code")
            // The confirmation spent this step's code: the app's next code (one step of drift is accepted).
            await page.fill("#second-factor [name=code]", totpCode(secret, Date.now() + 30_000))
            await page.click("#second-factor button")
            await page.waitForURL(`${app.url}/account`)
            await expect.poll(() => page.locator("[data-field=username]").textContent()).toBe(user.username)
          })
          expect(problems).toEqual([])
        }),
      { timeout: 60_000 }
    )

    it.scoped(
      "adds a passkey with Chromium's virtual authenticator, then signs in with the passkey alone",
      () =>
        Effect.gen(function*() {
          const { app, page, problems, user } = yield* start(executablePath)
          yield* Effect.promise(async () => {
            const cdp = await page.context().newCDPSession(page)
            await cdp.send("WebAuthn.enable")
            const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
              options: {
                protocol: "ctap2",
                transport: "internal",
                hasResidentKey: true,
                hasUserVerification: true,
                isUserVerified: true,
                automaticPresenceSimulation: true
              }
            })

            await submitPassword(page, app.url, user.email, user.password)
            await page.waitForURL(`${app.url}/account`)
            await page.goto(`${app.url}/settings`)
            await expect.poll(() => page.locator("#passkeys li").textContent()).toBe("No passkeys yet.")
            await page.fill("#passkey-add [name=name]", "Virtual key")
            await page.click("#passkey-add button")
            await expect.poll(() => status(page, "passkey-add").textContent()).toBe("Passkey added.")
            const items = page.locator("#passkeys li[data-passkey-id]")
            await expect.poll(() => items.count()).toBe(1)
            expect(await items.first().textContent()).toContain("Virtual key")
            // The authenticator holds it as a discoverable credential for localhost.
            const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId })
            expect(credentials.map(({ isResidentCredential, rpId }) => ({ isResidentCredential, rpId }))).toEqual([
              { isResidentCredential: true, rpId: "localhost" }
            ])
            expect(await items.first().getAttribute("data-passkey-id")).toBe(
              credentials[0]?.credentialId
                .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
            )

            page.once("dialog", (dialog) => dialog.accept("Work laptop"))
            await items.first().locator("button", { hasText: "Rename" }).click()
            await expect.poll(() => items.first().textContent()).toContain("Work laptop")

            await signOut(page, app.url)
            // Usernameless: nothing typed, one click.
            await page.click("#passkey-sign-in button")
            await page.waitForURL(`${app.url}/account`)
            await expect.poll(() => page.locator("[data-field=username]").textContent()).toBe(user.username)
            expect((await page.context().cookies()).map((cookie) => cookie.name)).toEqual(["__Host-session"])

            await page.goto(`${app.url}/settings`)
            await expect.poll(() => items.first().textContent()).toContain("last used")
            await items.first().locator("button", { hasText: "Remove" }).click()
            await expect.poll(() => page.locator("#passkeys-status").textContent()).toBe("Passkey removed.")
            await expect.poll(() => items.count()).toBe(0)
            // The authenticator still offers it, but the app no longer knows it.
            await signOut(page, app.url)
            await page.click("#passkey-sign-in button")
            await expect.poll(() => status(page, "passkey-sign-in").textContent()).toContain("unknown-credential")
            expect(page.url()).toBe(`${app.url}/sign-in`)
          })
          expect(problems).toEqual([])
        }),
      { timeout: 60_000 }
    )
  })
})
