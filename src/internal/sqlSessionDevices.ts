/**
 * `SqlUserStore`'s `SessionDeviceStore`: the statements and rows of migration 0010, on the client and transaction
 * of the store's other ports. A record goes with its session by the foreign key's `ON DELETE CASCADE`, so no
 * statement that removes sessions needs to know about it.
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { SessionDeviceStore, type SessionDeviceStoreService } from "../SessionDeviceStore.js"
import { SessionId } from "../User.js"
import * as SqlErrors from "./sqlErrors.js"
import type { Deps } from "./sqlShared.js"

const SessionDeviceRow = Schema.Struct({
  sessionId: Schema.propertySignature(SessionId).pipe(Schema.fromKey("session_id")),
  userAgent: Schema.propertySignature(Schema.OptionFromNullOr(Schema.String)).pipe(Schema.fromKey("user_agent")),
  address: Schema.OptionFromNullOr(Schema.String)
})

// A row the database returned in an impossible shape is a bug or a corrupt database: a defect.
const decodeRows = Schema.decodeUnknown(Schema.Array(SessionDeviceRow))
const decode = (rows: unknown) => Effect.orDie(decodeRows(rows))

export const make = ({ sql }: Deps): SessionDeviceStoreService => {
  const columns = sql.literal("d.session_id, d.user_agent, d.address")
  const select = (operation: string, statement: Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
    statement.pipe(Effect.flatMap(decode), Effect.catchTag("SqlError", SqlErrors.failStore(operation)))

  return SessionDeviceStore.of({
    insertSessionDevice: (record) =>
      sql`INSERT INTO userharbor_session_devices ${
        sql.insert({
          session_id: record.sessionId,
          user_agent: Option.getOrNull(record.userAgent),
          address: Option.getOrNull(record.address)
        })
      }`.pipe(Effect.asVoid, Effect.catchTag("SqlError", SqlErrors.failStore("insertSessionDevice"))),
    findSessionDevice: (sessionId) =>
      select(
        "findSessionDevice",
        sql`SELECT ${columns} FROM userharbor_session_devices d WHERE d.session_id = ${sessionId}`
      ).pipe(Effect.map((rows) => Option.fromNullable(rows[0]))),
    listUserSessionDevices: (userId) =>
      select(
        "listUserSessionDevices",
        sql`SELECT ${columns} FROM userharbor_session_devices d
          JOIN userharbor_sessions s ON s.id = d.session_id WHERE s.user_id = ${userId}`
      )
  })
}
