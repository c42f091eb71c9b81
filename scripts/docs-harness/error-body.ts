/**
 * Harness for docs/integration.md's `errorBody` (`<!-- docs:run harness=error-body -->`): the wire form of a
 * library error is `{ _tag, message, ...fields }` with the annotated status, and decodes back to the error.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { deepStrictEqual, strictEqual } from "node:assert"
import { Errors } from "userharbor"
import { WeakPasswordError } from "./BLOCK.js"

const error = new Errors.WeakPassword({ reasons: ["too-short", "common"] })
const body = Schema.encodeSync(WeakPasswordError)(error)
deepStrictEqual(body, { _tag: "WeakPassword", reasons: ["too-short", "common"], message: error.message })
strictEqual(HttpApiSchema.getStatusError(WeakPasswordError), 422)
const decoded = Schema.decodeUnknownSync(WeakPasswordError)(body)
strictEqual(decoded instanceof Errors.WeakPassword, true)
deepStrictEqual(decoded.reasons, ["too-short", "common"])
console.log(`WeakPassword on the wire: 422 ${JSON.stringify(body)}`)
