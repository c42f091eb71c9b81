/**
 * Every way a program might print a value: its own renderings, and Effect's, which print an error's whole `cause`
 * chain (`Cause.pretty` with `renderErrorCause`, the built-in loggers, span events, the `FiberFailure` that
 * `Effect.runSync` throws and `Effect.runPromise` rejects with).
 */
import { Cause, Effect, Logger, LogLevel, Runtime, Tracer } from "effect"
import * as util from "node:util"

const loggers: ReadonlyArray<readonly [string, Logger.Logger<unknown, unknown>]> = [
  ["stringLogger", Logger.stringLogger],
  ["logfmtLogger", Logger.logfmtLogger],
  ["jsonLogger", Logger.jsonLogger],
  ["structuredLogger", Logger.structuredLogger]
]

/** What `Effect.logError(Cause.fail(error))` writes through each built-in logger format. */
export const logLines = (error: unknown): ReadonlyArray<string> =>
  loggers.map(([name, format]) => {
    const lines: Array<string> = []
    const capture = Logger.map(format, (line) => {
      lines.push(util.inspect(line, { depth: 10 }))
    })
    Effect.runSync(
      Effect.logError("failed", Cause.fail(error)).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
    )
    return `${name}: ${lines.join("\n")}`
  })

/** The attributes of the span event that `Effect.logError(Cause.fail(error))` records inside a span. */
export const spanEvents = (error: unknown): ReadonlyArray<string> => {
  const events: Array<string> = []
  const native = Effect.runSync(Effect.tracer)
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      const event = span.event.bind(span)
      return Object.assign(span, {
        event: (name: string, startTime: bigint, attributes?: Record<string, unknown>) => {
          events.push(util.inspect({ name, attributes }, { depth: 10 }))
          event(name, startTime, attributes)
        }
      })
    },
    context: native.context
  })
  Effect.runSync(
    Effect.logError("failed", Cause.fail(error)).pipe(
      Effect.withSpan("render"),
      Effect.withTracer(tracer),
      // The span event is recorded by the tracer's own logger; the default one would only print to the console.
      Effect.provide(Logger.remove(Logger.defaultLogger))
    )
  )
  return events
}

const thrownBy = (run: () => unknown): unknown => {
  try {
    run()
  } catch (thrown) {
    return thrown
  }
  throw new Error("expected a throw")
}

/** A `FiberFailure` printed the ways a program prints what it caught. */
export const fiberFailureRenderings = (failure: unknown): ReadonlyArray<string> => [
  String(failure),
  util.inspect(failure, { depth: 10, showHidden: true }),
  failure instanceof Error ? `${failure.message}\n${failure.stack ?? ""}` : "",
  JSON.stringify(failure) ?? ""
]

export const renderings = (value: unknown): ReadonlyArray<string> => {
  const all = [String(value), JSON.stringify(value) ?? "", util.inspect(value, { depth: 10, showHidden: true })]
  if (value instanceof Error) {
    all.push(
      value.message,
      value.stack ?? "",
      Cause.pretty(Cause.fail(value)),
      Cause.pretty(Cause.fail(value), { renderErrorCause: true }),
      Cause.pretty(Cause.die(value), { renderErrorCause: true }),
      ...logLines(value),
      ...spanEvents(value),
      ...fiberFailureRenderings(thrownBy(() => Effect.runSync(Effect.fail(value)))),
      ...fiberFailureRenderings(Runtime.makeFiberFailure(Cause.fail(value)))
    )
  }
  return all
}
