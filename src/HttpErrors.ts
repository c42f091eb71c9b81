/**
 * The library's errors as `HttpApi` response bodies (`userharbor/http`, needs `@effect/platform`): each body is the
 * error's own fields plus `message`, with the status as an `HttpApiSchema` annotation. Add them to the endpoints
 * that can fail with them:
 *
 * ```ts
 * HttpApiEndpoint.post("register", "/accounts")
 *   .setPayload(RegisterPayload)
 *   .addError(HttpErrors.body(Errors.WeakPassword, 422))
 *   .addError(HttpErrors.StoreErrorBody)
 * ```
 *
 * @since 0.3.0
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"
import { InvalidSession, StoreError } from "./Errors.js"

/**
 * A library error as a response body with `status`: its own fields plus `message`, so every error body has at least
 * `{ _tag, message }` (the errors are `Schema.TaggedError`s, whose encoded form has no `message`). HttpApi encodes
 * an error with the first schema of its tag across the API: give each error one status.
 *
 * @since 0.3.0
 * @category schemas
 */
export const body = <A extends { readonly message: string }, I, R>(error: Schema.Schema<A, I, R>, status: number) =>
  Schema.transform(Schema.Struct({ message: Schema.String }).pipe(Schema.extend(Schema.encodedSchema(error))), error, {
    strict: true,
    decode: (fields) => fields,
    encode: (fields, value) => ({ ...fields, message: value.message })
  }).annotations(HttpApiSchema.annotations({ status }))

/**
 * `InvalidSession` as a 401: `{ _tag, reason, message }`.
 *
 * @since 0.3.0
 * @category schemas
 */
export const InvalidSessionBody = body(InvalidSession, 401)

/**
 * `StoreError` as a 503 (the store is unavailable; worth retrying). Its driver-level cause stays in the logs: the
 * body carries only the tag, the operation and the message, because a driver error can quote SQL parameters.
 *
 * @since 0.3.0
 * @category schemas
 */
export const StoreErrorBody = Schema.transform(
  Schema.Struct({ _tag: Schema.Literal("StoreError"), message: Schema.String, operation: Schema.String }),
  Schema.typeSchema(StoreError),
  {
    strict: true,
    decode: ({ operation }) => new StoreError({ operation }),
    encode: (error) => ({ _tag: error._tag, message: error.message, operation: error.operation })
  }
).annotations(HttpApiSchema.annotations({ status: 503 }))
