/**
 * Harness for docs/integration.md's `clientAddress` (`<!-- docs:run harness=client-address -->`): without trusted
 * proxies `X-Forwarded-For` is ignored; behind N proxies the client is the N-th entry from the right; a header
 * with too few entries gives no key.
 */
import { HttpServerRequest } from "@effect/platform"
import { Option } from "effect"
import { deepStrictEqual } from "node:assert"
import { clientAddress } from "./BLOCK.js"

const request = (forwardedFor?: string) =>
  HttpServerRequest.fromWeb(
    new Request("http://127.0.0.1/api/sessions", {
      method: "POST",
      headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor }
    })
  )

// A web Request has no socket peer: without proxies the key is the (absent) peer, never the header
deepStrictEqual(clientAddress(request("6.6.6.6"), 0), Option.none())
deepStrictEqual(clientAddress(request("6.6.6.6, 10.0.0.1"), 1), Option.some("10.0.0.1"))
deepStrictEqual(clientAddress(request("6.6.6.6, 203.0.113.7, 10.0.0.1"), 2), Option.some("203.0.113.7"))
deepStrictEqual(clientAddress(request("10.0.0.1"), 2), Option.none())
deepStrictEqual(clientAddress(request(), 1), Option.none())
console.log("clientAddress takes the N-th entry from the right and nothing a client can choose")
