/**
 * `MemoryUserStore`'s `SecurityEventStore`, over the events part of the store's state, read and written through
 * the store's own statements so appends join its transactions.
 */
import type * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import type { EventCursor, SecurityEventRecord, SecurityEventStoreService } from "../SecurityEventStore.js"
import { SecurityEventStore } from "../SecurityEventStore.js"

/** The events by id. */
export type Events = HashMap.HashMap<string, SecurityEventRecord>

// Newest first: `at` descending, then `id` descending (bytewise, as the SQL stores compare).
const newestFirst = (a: SecurityEventRecord, b: SecurityEventRecord): number =>
  a.at !== b.at ? b.at - a.at : a.id < b.id ? 1 : a.id > b.id ? -1 : 0

const olderThan = (cursor: EventCursor) => (event: SecurityEventRecord): boolean =>
  event.at < cursor.at || (event.at === cursor.at && event.id < cursor.id)

export const make = (
  read: <A>(f: (events: Events) => A) => Effect.Effect<A>,
  write: <A>(f: (events: Events) => readonly [A, Events]) => Effect.Effect<A>
): SecurityEventStoreService =>
  SecurityEventStore.of({
    appendEvent: (event) => write((events) => [undefined, HashMap.set(events, event.id, event)]),
    listUserEvents: ({ before, limit, userId }) =>
      read((events) =>
        Array.from(HashMap.values(events))
          .filter((event) =>
            event.userId === userId && Option.match(before, { onNone: () => true, onSome: (c) => olderThan(c)(event) })
          )
          .sort(newestFirst)
          .slice(0, Math.max(0, Math.floor(limit)))
      ),
    purgeEvents: ({ before, limit }) =>
      write((events) => {
        const doomed = Array.from(HashMap.keys(HashMap.filter(events, (event) => event.at < before)))
          .slice(0, Math.max(0, Math.floor(limit)))
        return [doomed.length, HashMap.removeMany(events, doomed)]
      })
  })
