/**
 * Spans for the per-request operations: opened under an installed tracer (with the `inSpan` wrapper inside them),
 * skipped under Effect's built-in one, with the same results either way.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import * as Tracing from "../../../src/internal/tracing.js"
import { recording } from "../../support/recordingTracer.js"

const op = Tracing.fn(
  "Test.op",
  (n: number) =>
    Effect.gen(function*() {
      if (n < 0) return yield* Effect.fail("negative" as const)
      const span = yield* Effect.option(Effect.currentSpan)
      return { n: n + 1, spanName: Option.map(span, (s) => s.name) }
    }),
  (self) => Effect.tap(self, () => Effect.annotateCurrentSpan("test.outcome", "ok"))
)

describe("Tracing.fn", () => {
  it.effect("opens no span under Effect's built-in tracer", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* op(1), { n: 2, spanName: Option.none() })
      assert.deepStrictEqual(yield* Effect.exit(op(-1)), Exit.fail("negative" as const))
    }))

  it.effect("opens the named span, with the inSpan wrapper inside it, under an installed tracer", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* recording
      const result = yield* Effect.withTracer(op(1), tracer)
      assert.deepStrictEqual(result, { n: 2, spanName: Option.some("Test.op") })
      assert.deepStrictEqual(spans.map((span) => span.name), ["Test.op"])
      assert.strictEqual(spans[0]?.attributes.get("test.outcome"), "ok")
      assert.deepStrictEqual(yield* Effect.exit(Effect.withTracer(op(-1), tracer)), Exit.fail("negative" as const))
      assert.deepStrictEqual(spans.map((span) => span.name), ["Test.op", "Test.op"])
    }))
})
