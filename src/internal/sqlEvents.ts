/**
 * `SqlUserStore`'s `SecurityEventStore`: the statements and rows of migration 0007, on the client and transaction
 * of the store's other ports, so an append joins the transaction of the change it describes.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { SecurityEventStore, type SecurityEventStoreService } from "../SecurityEventStore.js"
import { UserId } from "../User.js"
import * as SqlErrors from "./sqlErrors.js"
import { Integer } from "./sqlRows.js"
import { type Deps, purgeRowsBefore } from "./sqlShared.js"

const EventRow = Schema.Struct({
  id: Schema.String,
  userId: Schema.propertySignature(UserId).pipe(Schema.fromKey("user_id")),
  at: Schema.propertySignature(Integer).pipe(Schema.fromKey("occurred_at")),
  type: Schema.String,
  payload: Schema.String
})
// A row the database returned in an impossible shape is a bug or a corrupt database: a defect.
const decodeEvents = (rows: unknown) => Effect.orDie(Schema.decodeUnknown(Schema.Array(EventRow))(rows))

export const make = ({ sql }: Deps): SecurityEventStoreService => {
  // The port orders ids bytewise; PostgreSQL would compare them in the database's locale.
  const id = sql.onDialectOrElse({ pg: () => sql`id COLLATE "C"`, orElse: () => sql`id` })
  const purge = purgeRowsBefore(sql)

  return SecurityEventStore.of({
    appendEvent: (event) =>
      sql`INSERT INTO userharbor_security_events ${
        sql.insert({
          id: event.id,
          user_id: event.userId,
          occurred_at: event.at,
          type: event.type,
          payload: event.payload
        })
      }`.pipe(Effect.asVoid, Effect.catchTag("SqlError", SqlErrors.failStore("appendEvent"))),

    listUserEvents: ({ before, limit, userId }) => {
      const older = Option.match(before, {
        onNone: () => sql`1 = 1`,
        onSome: (cursor) => sql`(occurred_at < ${cursor.at} OR (occurred_at = ${cursor.at} AND ${id} < ${cursor.id}))`
      })
      return sql`SELECT id, user_id, occurred_at, type, payload FROM userharbor_security_events
        WHERE user_id = ${userId} AND ${older}
        ORDER BY occurred_at DESC, ${id} DESC LIMIT ${Math.max(0, Math.floor(limit))}`.pipe(
        Effect.flatMap(decodeEvents),
        Effect.catchTag("SqlError", SqlErrors.failStore("listUserEvents"))
      )
    },

    purgeEvents: ({ before, limit }) =>
      purge("purgeEvents", "userharbor_security_events", ["id"], "occurred_at", before, Math.max(0, Math.floor(limit)))
  })
}
