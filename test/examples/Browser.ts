/**
 * Headless Chromium for the example app's browser tests (`USERHARBOR_TEST_CHROMIUM` names the executable).
 */
import { Effect } from "effect"
import { chromium } from "playwright-core"

export const launch = (executablePath: string, extraArgs: ReadonlyArray<string> = []) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      chromium.launch({
        executablePath,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          ...extraArgs
        ]
      })
    ),
    (browser) => Effect.promise(() => browser.close())
  )
