import { describe, expect, it } from "@effect/vitest"
import { ConfigError, Deferred, Effect, Exit, Fiber, Layer, Metric, Redacted } from "effect"
import { randomBytes, scryptSync } from "node:crypto"
import * as Metrics from "../../src/Metrics.js"
import * as PasswordHasher from "../../src/PasswordHasher.js"

const secret = Redacted.make("correct horse battery staple")

describe("PasswordHasher (argon2id)", () => {
  it.effect("hashes with the default parameters into a PHC string, and verifies", () =>
    Effect.gen(function*() {
      const hasher = yield* PasswordHasher.make()
      const hash = yield* hasher.hash(secret)
      expect(hash.startsWith("$argon2id$v=19$m=65536,t=3,p=4$")).toBe(true)
      expect(hash).not.toContain(Redacted.value(secret))
      expect(yield* hasher.verify(secret, hash)).toBe(true)
      expect(yield* hasher.verify(Redacted.make("correct horse battery stapler"), hash)).toBe(false)
      expect(hasher.needsRehash(hash)).toBe(false)
      // A hash in the order argon2 0.4x writes by itself still verifies.
      const npmOrder = hash.replace("m=65536,t=3,p=4", "m=65536,p=4,t=3")
      expect(yield* hasher.verify(secret, npmOrder)).toBe(true)
      expect(hasher.needsRehash(npmOrder)).toBe(false)
    }))

  it.effect("salts every hash and handles Unicode passwords", () =>
    Effect.gen(function*() {
      const hasher = yield* PasswordHasher.PasswordHasher
      const unicode = Redacted.make("пароль 密码 🔑 كلمة")
      const first = yield* hasher.hash(unicode)
      expect(first).toMatch(/^\$argon2id\$v=19\$m=256,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/)
      const second = yield* hasher.hash(unicode)
      expect(first).not.toBe(second)
      expect(yield* hasher.verify(unicode, first)).toBe(true)
      expect(yield* hasher.verify(unicode, second)).toBe(true)
      expect(yield* hasher.verify(Redacted.make(""), first)).toBe(false)
    }).pipe(Effect.provide(PasswordHasher.layerInsecureForTesting)))

  it.effect("answers false, never a defect, for a malformed stored hash", () =>
    Effect.gen(function*() {
      const hasher = yield* PasswordHasher.PasswordHasher
      const valid = yield* hasher.hash(secret)
      const malformed = [
        "",
        "not a hash",
        "$argon2id$",
        "$argon2id$v=19$m=65536,t=3,p=4$",
        "$argon2id$v=19$m=abc,t=3,p=4$c2FsdHNhbHQ$aGFzaA",
        valid.slice(0, -5),
        valid.replace("$argon2id$", "$argon2xx$"),
        "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "\u0000".repeat(100),
        "$".repeat(10_000)
      ]
      for (const hash of malformed) {
        const exit = yield* Effect.exit(hasher.verify(secret, hash))
        expect(exit, JSON.stringify(hash.slice(0, 40))).toStrictEqual(Exit.succeed(false))
      }
    }).pipe(Effect.provide(PasswordHasher.layerInsecureForTesting)))

  it.effect("refuses parameters below the OWASP minimums when the layer is built", () =>
    Effect.gen(function*() {
      const weak = { memoryCost: 1024, timeCost: 1, parallelism: 1 }
      const error = yield* Effect.flip(Layer.build(PasswordHasher.layer(weak)).pipe(Effect.scoped))
      expect(ConfigError.isConfigError(error)).toBe(true)
      expect(ConfigError.isInvalidData(error)).toBe(true)
      expect(PasswordHasher.meetsOwaspMinimum({ memoryCost: 19456, timeCost: 2, parallelism: 1 })).toBe(true)
      expect(PasswordHasher.meetsOwaspMinimum({ memoryCost: 19455, timeCost: 2, parallelism: 1 })).toBe(false)
      expect(PasswordHasher.meetsOwaspMinimum({ memoryCost: 47104, timeCost: 1, parallelism: 1 })).toBe(true)
      expect(PasswordHasher.meetsOwaspMinimum({ memoryCost: 47103, timeCost: 1, parallelism: 1 })).toBe(false)
      expect(PasswordHasher.meetsOwaspMinimum({ memoryCost: 7168, timeCost: 5, parallelism: 1 })).toBe(true)
      expect(PasswordHasher.meetsOwaspMinimum({ memoryCost: 65536, timeCost: 3, parallelism: 0 })).toBe(false)
      expect(PasswordHasher.meetsOwaspMinimum(PasswordHasher.defaultOptions)).toBe(true)
      yield* Layer.build(PasswordHasher.layer({ memoryCost: 19456, timeCost: 2, parallelism: 1 })).pipe(Effect.scoped)
    }))

  it.effect("needsRehash is true for other parameters, other algorithms and garbage", () =>
    Effect.gen(function*() {
      const fast = yield* PasswordHasher.PasswordHasher
      const owasp = yield* PasswordHasher.make({ memoryCost: 19456, timeCost: 2, parallelism: 1 })
      const fastHash = yield* fast.hash(secret)
      const owaspHash = yield* owasp.hash(secret)
      expect(owasp.needsRehash(fastHash)).toBe(true)
      expect(owasp.needsRehash(owaspHash)).toBe(false)
      expect(fast.needsRehash(owaspHash)).toBe(true)
      // Same parameters but another lane count
      const lanes = yield* PasswordHasher.make({ memoryCost: 19456, timeCost: 2, parallelism: 2 })
      expect(lanes.needsRehash(owaspHash)).toBe(true)
      expect(owasp.needsRehash(owaspHash.replace("$argon2id$", "$argon2i$"))).toBe(true)
      expect(owasp.needsRehash("$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")).toBe(true)
      expect(owasp.needsRehash("")).toBe(true)
      expect(owasp.needsRehash("garbage")).toBe(true)
    }).pipe(Effect.provide(PasswordHasher.layerInsecureForTesting)))
})

describe("PasswordHasher.bounded", () => {
  const insecure = Effect.provide(PasswordHasher.PasswordHasher, PasswordHasher.layerInsecureForTesting)
  const tags = <A>(effects: ReadonlyArray<Effect.Effect<A, { readonly _tag: string }>>) =>
    Effect.all(effects.map((e) => Effect.match(e, { onFailure: (error) => error._tag, onSuccess: () => "ok" })), {
      concurrency: "unbounded"
    })

  it.effect("runs `permits` at once, queues `maxQueue` more and refuses the rest with Busy, then recovers", () =>
    Effect.gen(function*() {
      const inner = yield* insecure
      const hash = yield* inner.hash(secret)
      const hasher = yield* PasswordHasher.bounded(inner, { permits: 1, maxQueue: 2 })
      const first = yield* tags(Array.from({ length: 10 }, () => hasher.verify(secret, hash)))
      expect(first.filter((tag) => tag === "ok")).toHaveLength(3)
      expect(first.filter((tag) => tag === "Busy")).toHaveLength(7)
      // Every admitted call released its place.
      const second = yield* tags(Array.from({ length: 3 }, () => hasher.hash(secret)))
      expect(second).toEqual(["ok", "ok", "ok"])
    }))

  it.effect("an interrupted waiter gives its place back", () =>
    Effect.gen(function*() {
      const inner = yield* insecure
      const gate = yield* Deferred.make<void>()
      const slow = PasswordHasher.PasswordHasher.of({ ...inner, verify: () => Effect.as(Deferred.await(gate), true) })
      const hasher = yield* PasswordHasher.bounded(slow, { permits: 1, maxQueue: 1 })
      const running = yield* Effect.fork(hasher.verify(secret, ""))
      const waiting = yield* Effect.fork(hasher.verify(secret, ""))
      yield* Effect.yieldNow()
      expect((yield* Effect.flip(hasher.verify(secret, "")))._tag).toBe("Busy")
      expect((yield* Metric.value(Metrics.hashQueueDepth)).value).toBe(1)
      yield* Fiber.interrupt(waiting)
      expect((yield* Metric.value(Metrics.hashQueueDepth)).value).toBe(0)
      const next = yield* Effect.fork(hasher.verify(secret, ""))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(running)).toBe(true)
      expect(yield* Fiber.join(next)).toBe(true)
      expect((yield* Metric.value(Metrics.hashQueueDepth)).value).toBe(0)
    }))

  it.effect("admit takes a place for a whole operation: Busy before it starts when full, never inside it", () =>
    Effect.gen(function*() {
      const inner = yield* insecure
      const hash = yield* inner.hash(secret)
      const hasher = yield* PasswordHasher.bounded(inner, { permits: 1, maxQueue: 1 })
      const admit = hasher.admit
      if (admit === undefined) return expect.fail("a bounded hasher admits")
      const hold = yield* Deferred.make<void>()
      const started = yield* Deferred.make<void>()
      // Two operations hold both places while they do other work (a store round trip, say).
      const operation = admit(Effect.gen(function*() {
        yield* Deferred.succeed(started, undefined)
        yield* Deferred.await(hold)
        // Inside, hashing waits for the permit instead of failing, although every place is taken.
        return [yield* hasher.verify(secret, hash), yield* hasher.verify(secret, hash)]
      }))
      const first = yield* Effect.fork(operation)
      const second = yield* Effect.fork(operation)
      yield* Deferred.await(started)
      yield* Effect.yieldNow()
      let ran = false
      const refused = yield* Effect.flip(admit(Effect.sync(() => (ran = true))))
      expect(refused._tag).toBe("Busy")
      expect(ran).toBe(false)
      expect((yield* Effect.flip(hasher.verify(secret, hash)))._tag).toBe("Busy")
      yield* Deferred.succeed(hold, undefined)
      expect(yield* Fiber.join(first)).toEqual([true, true])
      expect(yield* Fiber.join(second)).toEqual([true, true])
      // Both places are back.
      expect(yield* tags(Array.from({ length: 2 }, () => hasher.hash(secret)))).toEqual(["ok", "ok"])
      // With one place, an operation's nested admits and hashes take no place of their own.
      const single = yield* PasswordHasher.bounded(inner, { permits: 1, maxQueue: 0 })
      const admitOne = single.admit
      if (admitOne === undefined) return expect.fail("a bounded hasher admits")
      const nested = admitOne(Effect.zipRight(admitOne(single.hash(secret)), single.verify(secret, hash)))
      expect(yield* nested).toBe(true)
    }))

  it.effect("layer(options, limits) applies the bound", () =>
    Effect.gen(function*() {
      const hasher = yield* Effect.provide(
        PasswordHasher.PasswordHasher,
        PasswordHasher.layer({ memoryCost: 19456, timeCost: 2, parallelism: 1 }, { permits: 1, maxQueue: 0 })
      )
      const results = yield* tags(Array.from({ length: 3 }, () => hasher.hash(secret)))
      expect(results.filter((tag) => tag === "Busy")).toHaveLength(2)
    }))
})

describe("PasswordHasher: imported scrypt hashes", () => {
  // A hash as passlib (and PHC-style Node libraries) write it, made here with node:crypto.
  const scryptHash = (password: string, options: { ln?: number; passlibAlphabet?: boolean } = {}) => {
    const ln = options.ln ?? 14
    const salt = randomBytes(16)
    const key = scryptSync(password, salt, 32, { N: 2 ** ln, r: 8, p: 1 })
    const b64 = (b: Buffer) => {
      const s = b.toString("base64").replace(/=+$/, "")
      return options.passlibAlphabet === true ? s.replace(/\+/g, ".") : s
    }
    return `$scrypt$ln=${ln},r=8,p=1$${b64(salt)}$${b64(key)}`
  }

  it.effect("verifies the right password only, in either base64 alphabet, and always asks for a rehash", () =>
    Effect.gen(function*() {
      const hasher = yield* PasswordHasher.PasswordHasher
      for (const passlibAlphabet of [false, true]) {
        const hash = scryptHash("correct horse battery staple", { passlibAlphabet })
        expect(yield* hasher.verify(secret, hash)).toBe(true)
        expect(yield* hasher.verify(Redacted.make("correct horse battery stapler"), hash)).toBe(false)
        expect(hasher.needsRehash(hash)).toBe(true)
      }
    }).pipe(Effect.provide(PasswordHasher.layerInsecureForTesting)))

  it.effect("refuses malformed hashes and hostile parameters without failing", () =>
    Effect.gen(function*() {
      const hasher = yield* PasswordHasher.PasswordHasher
      const good = scryptHash("correct horse battery staple")
      const hostile = [
        "$scrypt$",
        good.replace("ln=14", "ln=30"), // N = 2^30: refused before any work
        good.replace("r=8", "r=0"),
        good.replace("p=1", "p=999"),
        good.slice(0, -10),
        `${good}$extra`
      ]
      for (const hash of hostile) expect(yield* hasher.verify(secret, hash)).toBe(false)
    }).pipe(Effect.provide(PasswordHasher.layerInsecureForTesting)))
})
