import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as DeviceLabel from "../../../src/internal/deviceLabel.js"

// Real user agents, as the browsers of late 2024 send them.
const labels: ReadonlyArray<readonly [userAgent: string, label: string]> = [
  [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Chrome on Linux"
  ],
  [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Safari on iOS"
  ],
  [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Safari on macOS"
  ],
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"],
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Edge on Windows"
  ],
  [
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.104 Mobile Safari/537.36",
    "Chrome on Android"
  ],
  [
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Samsung Internet on Android"
  ],
  [
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
    "Chrome on iOS"
  ],
  ["curl/8.5.0", "Unknown device"],
  ["x", "Unknown device"]
]

describe("device labels", () => {
  it.effect("names real browsers and systems the way people do", () =>
    Effect.gen(function*() {
      const label = yield* DeviceLabel.labeller([Option.some("Mozilla/5.0")])
      for (const [userAgent, expected] of labels) expect(label(Option.some(userAgent)), userAgent).toBe(expected)
      expect(label(Option.none())).toBe("Unknown device")
    }))

  it("says Unknown device without the parser, and without a user agent", () => {
    const withoutParser = DeviceLabel.labelWith(Option.none())
    expect(withoutParser(Option.some(labels[0]![0]))).toBe("Unknown device")
    const throwing: DeviceLabel.Parse = () => {
      throw new Error("unreadable")
    }
    expect(DeviceLabel.labelWith(Option.some(throwing))(Option.some("anything"))).toBe("Unknown device")
  })

  it.effect("loads no parser for a list without user agents", () =>
    Effect.gen(function*() {
      const label = yield* DeviceLabel.labeller([Option.none(), Option.none()])
      expect(label(Option.some(labels[0]![0]))).toBe("Unknown device")
    }))
})
