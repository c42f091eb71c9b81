import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { promisify } from "node:util"

// Follows every import reachable from an entry point and returns the external modules it loads. A static walk
// sees type-only imports too, which is stricter than what runs.
const externalImports = (entry: string): Set<string> => {
  const seen = new Set<string>()
  const external = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    // Doc comments hold example imports (`@example` blocks) that the module itself does not load.
    const source = readFileSync(file, "utf8").replace(/\/\*\*[\s\S]*?\*\//g, "")
    for (const match of source.matchAll(/^\s*(?:import|export)[^"']*?from\s+["']([^"']+)["']/gm)) {
      const specifier = match[1]
      if (specifier === undefined) continue
      if (specifier.startsWith(".")) {
        const target = resolve(dirname(file), specifier.replace(/\.js$/, ".ts"))
        if (!existsSync(target)) throw new Error(`${file} imports missing ${specifier}`)
        visit(target)
      } else {
        external.add(specifier)
      }
    }
  }
  visit(resolve(entry))
  return external
}

const packageOf = (specifier: string) =>
  specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : (specifier.split("/")[0] ?? specifier)

describe("entry points", () => {
  it("the core (src/index.ts) loads only effect, node:crypto, node:net and node:os", () => {
    const packages = new Set([...externalImports(join("src", "index.ts"))].map(packageOf))
    // node:net only parses client addresses (isIPv4, isIPv6); it opens nothing.
    const allowed = new Set(["effect", "node:crypto", "node:net", "node:os"])
    expect([...packages].filter((name) => !allowed.has(name))).toEqual([])
    expect(packages.has("effect")).toBe(true)
    expect(packages.has("argon2")).toBe(false)
  })

  it("importing the core loads no native addon; building the argon2 hasher loads argon2's", async () => {
    const script = join(import.meta.dirname, "..", "support", "scripts", "nativeAddons.ts")
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script])
    const { afterBuild, afterImport }: { afterImport: Array<string>; afterBuild: Array<string> } = JSON.parse(stdout)
    expect(afterImport).toEqual([])
    expect(afterBuild.filter((file) => /[\\/]argon2[\\/].*\.node$/.test(file))).toHaveLength(1)
  }, 30_000)

  it("the test kit (src/testing.ts) needs no database driver, mail library or test framework", () => {
    const packages = [...externalImports(join("src", "testing.ts"))].map(packageOf)
    const allowed = new Set(["effect", "argon2"])
    expect(packages.filter((name) => !allowed.has(name) && !name.startsWith("node:"))).toEqual([])
  })

  it("the binary (src/cli.ts) imports only node:fs up front: it checks its optional peers before loading them", () => {
    expect([...externalImports(join("src", "cli.ts"))]).toEqual(["node:fs"])
  })

  const drivers: Record<string, ReadonlyArray<string>> = {
    sql: ["effect", "@effect/sql"],
    // node:fs and node:path: a file that cannot be opened is explained by looking at its directory.
    sqlite: [
      "effect",
      "@effect/sql",
      "@effect/sql-sqlite-node",
      "@effect/experimental",
      "better-sqlite3",
      "node:fs",
      "node:path"
    ],
    pg: ["effect", "@effect/sql", "@effect/sql-pg", "@effect/experimental", "pg"],
    mysql: ["effect", "@effect/sql", "@effect/sql-mysql2"],
    redis: ["effect", "ioredis"]
  }
  it.each(Object.keys(drivers))("src/%s.ts loads only its own driver (the others are optional peers)", (entry) => {
    const allowed = drivers[entry] ?? []
    const packages = [...externalImports(join("src", `${entry}.ts`))].map(packageOf)
    expect(packages.filter((name) => !allowed.includes(name))).toEqual([])
  })

  it("every subpath export points at a source entry that exists", () => {
    const manifest: { exports: Record<string, string | { types: string; default: string }> } = JSON.parse(
      readFileSync("package.json", "utf8")
    )
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === "string") continue
      const source = target.default.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")
      expect(existsSync(source), `${subpath} -> ${source}`).toBe(true)
    }
  })
})
