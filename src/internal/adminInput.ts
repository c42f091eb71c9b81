/**
 * The checks of `UserHarborAdmin`'s inputs, and the directory cursor: an opaque string to the caller, the position
 * (`createdAt`, `id`) of the last entry of a page to the store.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { UserListFilter, UserListPosition } from "../AccountAdminStore.js"
import { InvalidAdminInput } from "../Errors.js"
import { UserId } from "../User.js"
import type { ListUsersInput } from "../UserHarborAdmin.js"

export const maxActorId = 200
export const maxReason = 500
export const defaultLimit = 50
export const maxLimit = 1000

// Trimmed, so an id or a reason of blanks is no id or reason; measured in UTF-16 code units, never more characters
// than the columns hold.
const text = (field: "actorId" | "reason", max: number) => (value: string) => {
  const trimmed = value.trim()
  return trimmed.length === 0 || trimmed.length > max
    ? Effect.fail(new InvalidAdminInput({ field }))
    : Effect.succeed(trimmed)
}

export const actorId = text("actorId", maxActorId)
export const reason = text("reason", maxReason)

const Position = Schema.compose(
  Schema.StringFromBase64Url,
  Schema.parseJson(Schema.Tuple(Schema.NonNegativeInt, UserId))
)
const decodePosition = Schema.decodeUnknownEither(Position)
const encodePosition = Schema.encodeSync(Position)

export const cursorOf = (position: UserListPosition): string => encodePosition([position.createdAt, position.id])

const after = (cursor: string | undefined) => {
  if (cursor === undefined) return Effect.succeed(Option.none<UserListPosition>())
  return Either.match(decodePosition(cursor), {
    onLeft: () => Effect.fail(new InvalidAdminInput({ field: "cursor" })),
    onRight: ([createdAt, id]) => Effect.succeed(Option.some({ createdAt, id }))
  })
}

const instant = (field: "createdBefore" | "createdAfter", date: Date | undefined) => {
  if (date === undefined) return Effect.succeed(undefined)
  const millis = date.getTime()
  return Number.isSafeInteger(millis) ? Effect.succeed(millis) : Effect.fail(new InvalidAdminInput({ field }))
}

/** The store's query for a `listUsers` input. */
export const listQuery = (input: ListUsersInput) =>
  Effect.gen(function*() {
    const limit = input.limit ?? defaultLimit
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
      return yield* new InvalidAdminInput({ field: "limit" })
    }
    const filter: UserListFilter = {
      verified: input.verified,
      locked: input.locked,
      createdBefore: yield* instant("createdBefore", input.createdBefore),
      createdAfter: yield* instant("createdAfter", input.createdAfter)
    }
    return { filter, after: yield* after(input.cursor), limit }
  })
