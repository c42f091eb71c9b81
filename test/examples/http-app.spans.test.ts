/**
 * The example app's request spans: `HttpMiddleware.tracer`'s span per request only when the app installed a tracer
 * (with Effect's built-in one it would go nowhere, at the cost of a session check; docs/performance.md).
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Tracer } from "effect"
import * as App from "../../examples/http-app/App.js"
import * as Mailer from "../../examples/http-app/Mailer.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as PasswordHasher from "../../src/PasswordHasher.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import { testSecretKey } from "../../src/UserHarborTest.js"

// The span names the server opened while answering one request, with or without a tracer of the app's own.
const spansOfOneRequest = (installed: boolean) =>
  Effect.gen(function*() {
    const names: Array<string> = []
    const native = yield* Effect.tracer
    const recording = Tracer.make({
      span: (name, ...rest) => {
        names.push(name)
        return native.span(name, ...rest)
      },
      context: native.context
    })
    const app = App.layer({
      store: MemoryUserStore.layer,
      sender: Mailer.layerConsole,
      hasher: PasswordHasher.layerInsecureForTesting,
      config: UserHarborConfig.layer({ secretKey: testSecretKey }),
      delivery: "inline",
      secureCookies: false
    })
    const server = Layer.provideMerge(app, NodeHttpServer.layerTest)
    yield* Effect.scoped(
      Effect.gen(function*() {
        const response = yield* HttpClient.get("/api/accounts/me")
        assert.strictEqual(response.status, 401)
      }).pipe(Effect.provide(installed ? Layer.provide(server, Layer.setTracer(recording)) : server))
    )
    return names.filter((name) => name.startsWith("http.server"))
  })

describe("example http app: request spans", () => {
  // Without one, nothing can record what the built-in tracer would have made: the request is answered as before.
  it.effect("are made for a tracer the app installed", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* spansOfOneRequest(true), ["http.server GET"])
      assert.deepStrictEqual(yield* spansOfOneRequest(false), [])
    }))
})
