/**
 * The client details a caller passes to `login` and friends, made safe to keep: a user agent cut to a length a
 * column holds, and an address reduced to its network (a /24 or /48 by default), so what is stored points at a
 * provider's block, not at a household. Nothing here fails: a login never fails because of what a client claims
 * about itself; what cannot be used is dropped.
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import { isIPv4, isIPv6 } from "node:net"

/** What the caller may pass (`UserHarbor.ClientDetails`). */
export interface Input {
  readonly userAgent?: string | undefined
  readonly address?: string | undefined
}

/** The details as stored and as the security events carry them. */
export interface Stored {
  readonly userAgent: Option.Option<string>
  readonly address: Option.Option<string>
}

export interface Prefixes {
  readonly ipv4Prefix: number
  readonly ipv6Prefix: number
}

/** The user agent column's size (`VARCHAR(512)`); real ones are a few hundred characters at most. */
export const maxUserAgentLength = 512
// The longest textual IPv6 address (45) with brackets and a zone id: anything longer is not an address.
const maxAddressInput = 100

// Control characters would garble a log or a page; lone surrogates cannot be stored as UTF-8.
const controls = /[\u0000-\u001f\u007f-\u009f]+/g

const userAgentOf = (raw: unknown): Option.Option<string> => {
  if (typeof raw !== "string") return Option.none()
  const cleaned = raw.slice(0, maxUserAgentLength * 2).replace(controls, " ").trim().slice(0, maxUserAgentLength)
  const text = cleaned.toWellFormed().trim()
  return text.length === 0 ? Option.none() : Option.some(text)
}

const ipv4Octets = (text: string): ReadonlyArray<number> => text.split(".").map(Number)

// The eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail is two of them).
const ipv6Groups = (text: string): ReadonlyArray<number> => {
  const parts = (half: string) =>
    half === "" ? [] : half.split(":").flatMap((part) => {
      if (!part.includes(".")) return [parseInt(part, 16)]
      const [a = 0, b = 0, c = 0, d = 0] = ipv4Octets(part)
      return [a * 256 + b, c * 256 + d]
    })
  const [head = "", tail] = text.split("::")
  const front = parts(head)
  if (tail === undefined) return front
  const back = parts(tail)
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back]
}

// Keeps the first `prefix` bits of `values`, each `width` bits wide.
const mask = (values: ReadonlyArray<number>, width: number, prefix: number): ReadonlyArray<number> =>
  values.map((value, i) => {
    const kept = Math.min(width, Math.max(0, prefix - i * width))
    return kept === 0 ? 0 : value - (value % 2 ** (width - kept))
  })

// RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups (the first on a tie) as `::`.
const formatIpv6 = (groups: ReadonlyArray<number>): string => {
  let best = { start: -1, length: 1 }
  let run = { start: -1, length: 0 }
  groups.forEach((group, i) => {
    run = group === 0 ? { start: run.length === 0 ? i : run.start, length: run.length + 1 } : { start: -1, length: 0 }
    if (run.length > best.length) best = run
  })
  const hex = groups.map((group) => group.toString(16))
  if (best.start < 0) return hex.join(":")
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`
}

const bracketed = /^\[([^\]]+)\](?::\d+)?$/
const ipv4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/

const ipv4Network = (octets: ReadonlyArray<number>, prefix: number) => `${mask(octets, 8, prefix).join(".")}/${prefix}`

/**
 * The network of `raw` under the configured prefix (`203.0.113.0/24`, `2001:db8:abcd::/48`), IPv4-mapped IPv6
 * addresses as IPv4; `None` for anything that is not an IP address, or when the prefix is 0 (addresses off).
 * Brackets, a port and a zone id (`[fe80::1%eth0]:443`, `192.0.2.1:5678`) are accepted and dropped.
 */
export const truncateAddress = (raw: unknown, prefixes: Prefixes): Option.Option<string> => {
  if (typeof raw !== "string" || raw.length > maxAddressInput) return Option.none()
  const trimmed = raw.trim()
  // As some proxies write them: `[2001:db8::1]:443`, `192.0.2.1:5678`.
  const host = bracketed.exec(trimmed)?.[1] ?? ipv4WithPort.exec(trimmed)?.[1] ?? trimmed
  const text = host.split("%")[0] ?? ""
  if (isIPv4(text)) {
    return prefixes.ipv4Prefix === 0 ? Option.none() : Option.some(ipv4Network(ipv4Octets(text), prefixes.ipv4Prefix))
  }
  if (!isIPv6(text)) return Option.none()
  const groups = ipv6Groups(text.toLowerCase())
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff
  if (mapped) {
    if (prefixes.ipv4Prefix === 0) return Option.none()
    const [high = 0, low = 0] = groups.slice(6)
    return Option.some(ipv4Network([high >> 8, high & 255, low >> 8, low & 255], prefixes.ipv4Prefix))
  }
  if (prefixes.ipv6Prefix === 0) return Option.none()
  return Option.some(`${formatIpv6(mask(groups, 16, prefixes.ipv6Prefix))}/${prefixes.ipv6Prefix}`)
}

/** The details to keep, or `None` when nothing usable was passed (the session then has no record). */
export const normalize = (input: Input | undefined, prefixes: Prefixes): Option.Option<Stored> => {
  if (input === undefined) return Option.none()
  const stored: Stored = {
    userAgent: userAgentOf(input.userAgent),
    address: truncateAddress(input.address, prefixes)
  }
  return Option.isNone(stored.userAgent) && Option.isNone(stored.address) ? Option.none() : Option.some(stored)
}

/**
 * The client of the operation that is running (`login`, `completeLogin`, `finishPasskeyLogin`, `register`): the
 * sessions it creates keep it, and every security event it records carries it (`internal/securityEvents.ts` reads
 * it), wherever in the operation the event is recorded.
 */
export const current: FiberRef.FiberRef<Option.Option<Stored>> = FiberRef.unsafeMake(Option.none<Stored>())

/** Runs `self` as an operation of `client`. */
export const within =
  (client: Option.Option<Stored>) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Option.isNone(client) ? self : Effect.locally(self, current, client)

/** The client of the running operation. */
export const currentClient: Effect.Effect<Option.Option<Stored>> = FiberRef.get(current)
