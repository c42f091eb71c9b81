/**
 * A tracer that records every span it opens (through the fiber's own tracer), for tests that inspect spans' names
 * and attributes: `const { spans, tracer } = yield* recording`, then `Effect.withTracer(tracer)`.
 */
import { Effect, Tracer } from "effect"

export const recording = Effect.map(Effect.tracer, (native) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push(span)
      return span
    },
    context: native.context
  })
  return { spans, tracer }
})
