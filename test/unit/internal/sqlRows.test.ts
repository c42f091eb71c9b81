/**
 * One decoding rule per value for every path that reads a row: the `Schema` rows of `SqlUserStore` and the
 * hand-written session decoder of the drivers' fast paths run on the same inputs and must agree (0.1 had two
 * session decoders, and only one of them took `"1e3"` for an integer).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Schema } from "effect"
import { decodeRow } from "../../../src/internal/sessionRow.js"
import * as Rows from "../../../src/internal/sqlRows.js"
import { TokenHash } from "../../../src/UserStore.js"

const integers: ReadonlyArray<readonly [unknown, number | undefined]> = [
  [0, 0],
  [1000, 1000],
  [-5, -5],
  [1000n, 1000],
  ["1000", 1000],
  ["-5", -5],
  ["1e3", undefined],
  ["12.5", undefined],
  ["", undefined],
  [" 12", undefined],
  ["0x10", undefined],
  ["Infinity", undefined],
  [1.5, undefined],
  [Number.MAX_SAFE_INTEGER + 1, undefined],
  ["9007199254740993", undefined],
  [2n ** 60n, undefined],
  [null, undefined],
  [undefined, undefined],
  [true, undefined]
]

const booleans: ReadonlyArray<readonly [unknown, boolean | undefined]> = [
  [true, true],
  [false, false],
  [1, true],
  [0, false],
  [2, undefined],
  ["1", undefined],
  ["true", undefined],
  [null, undefined]
]

const tokenHash = TokenHash.make("t1")
// The session's columns, then its user's, as `sessionQuery` returns them (with the key, as listUserSessions reads).
const sessionRow = {
  ...{ token_hash: "t1", id: "s1", user_id: "u1", created_at: 11, expires_at: 12, last_used_at: 13 },
  ...{ username: "Ann", email: "ann@example.com", verified: 1, user_created_at: 10 }
}
const userRow = {
  id: "u1",
  username: "Ann",
  username_key: "ann",
  email: "ann@example.com",
  email_key: "ann@example.com",
  password_hash: "hash",
  password_version: 1,
  verified: 1,
  created_at: 10
}

describe("sqlRows", () => {
  it("the integer rule and its Schema agree on every input", () => {
    for (const [input, expected] of integers) {
      assert.strictEqual(Rows.integer(input), expected, String(input))
      assert.deepStrictEqual(
        Schema.decodeUnknownOption(Rows.Integer)(input),
        Option.fromNullable(expected),
        String(input)
      )
    }
  })

  it("the boolean rule and its Schema agree on every input", () => {
    for (const [input, expected] of booleans) {
      assert.strictEqual(Rows.boolean(input), expected, String(input))
      assert.deepStrictEqual(Schema.decodeUnknownOption(Rows.Bool)(input), Option.fromNullable(expected), String(input))
    }
  })

  it.effect("an integer column given as \"1e3\" is refused on every path, and \"1000\" accepted on every path", () =>
    Effect.gen(function*() {
      // The fast paths' decoder (findSession on every driver).
      assert.isUndefined(decodeRow({ ...sessionRow, expires_at: "1e3" }, tokenHash))
      assert.strictEqual(decodeRow({ ...sessionRow, expires_at: "1000" }, tokenHash)?.session.expiresAt, 1000)
      // The statement paths: listUserSessions, and the Schema rows.
      assert.isTrue(Exit.isFailure(yield* Effect.exit(Rows.decodeSessions([{ ...sessionRow, expires_at: "1e3" }]))))
      assert.strictEqual((yield* Rows.decodeSessions([{ ...sessionRow, expires_at: "1000" }]))[0]?.expiresAt, 1000)
      assert.isTrue(Exit.isFailure(yield* Effect.exit(Rows.decodeUsers([{ ...userRow, created_at: "1e3" }]))))
      assert.strictEqual((yield* Rows.decodeUsers([{ ...userRow, created_at: "1000" }]))[0]?.createdAt, 1000)
      assert.isTrue(
        Exit.isFailure(yield* Effect.exit(Rows.decodeCounters([{ hits: "1e3", window_start: 1, updated_at: 1 }])))
      )
      assert.isTrue(Exit.isFailure(yield* Effect.exit(Rows.decodeAffected({ rowCount: "1e3" }))))
      assert.strictEqual(yield* Rows.decodeAffected({ rowCount: "3" }), 3)
    }))

  it.effect("a session reads the same through findSession's decoder and listUserSessions'", () =>
    Effect.gen(function*() {
      for (const shape of [{}, { created_at: "11", expires_at: 12n, verified: true }]) {
        const row = { ...sessionRow, ...shape }
        const listed = yield* Rows.decodeSessions([row])
        assert.deepStrictEqual(listed[0], decodeRow(row, tokenHash)?.session)
      }
    }))
})
