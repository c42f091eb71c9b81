/**
 * `recentActivity`: a user's stored security events, newest first, one page at a time.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { StoreError } from "../Errors.js"
import * as SecurityEvent from "../SecurityEvent.js"
import type { SecurityEventStoreService } from "../SecurityEventStore.js"
import type { UserId } from "../User.js"

/** What a page may ask for (see `UserHarbor.ActivityPage`). */
export interface Page {
  readonly limit?: number | undefined
  readonly before?: { readonly at: Date; readonly id: string } | undefined
}

export const defaultLimit = 20
export const maxLimit = 100

const decode = Schema.decodeUnknown(SecurityEvent.Json)

// A row this version cannot read (written by a newer one, say) is left out of the page rather than failing it.
const readable = (payload: string) =>
  decode(payload).pipe(
    Effect.map((event) => Option.some(event)),
    Effect.catchTag("ParseError", () =>
      Effect.as(Effect.logWarning("UserHarbor: a stored security event could not be read"), Option.none()))
  )

export const make = (events: Option.Option<SecurityEventStoreService>) =>
(
  userId: UserId,
  page: Page
): Effect.Effect<ReadonlyArray<SecurityEvent.SecurityEvent>, StoreError> => {
  if (Option.isNone(events)) return Effect.succeed([])
  const wanted = page.limit === undefined || !Number.isFinite(page.limit) ? defaultLimit : Math.floor(page.limit)
  const limit = Math.min(maxLimit, Math.max(1, wanted))
  const before = Option.map(Option.fromNullable(page.before), ({ at, id }) => ({ at: at.getTime(), id }))
  return events.value.listUserEvents({ userId, limit, before }).pipe(
    Effect.flatMap((records) => Effect.forEach(records, (record) => readable(record.payload))),
    Effect.map((read): ReadonlyArray<SecurityEvent.SecurityEvent> => read.flatMap(Option.toArray))
  )
}
