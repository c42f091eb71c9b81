// Loads every entry point the installed package's `exports` lists, with `import` and with `require` (CommonJS
// callers get ES modules through require(esm) on Node 20.19+ and 22.12+), and checks that each has exports.
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const manifest = JSON.parse(readFileSync(new URL("./node_modules/userharbor/package.json", import.meta.url), "utf8"))
const subpaths = Object.keys(manifest.exports).filter((subpath) => !subpath.endsWith(".json"))
let failed = 0
for (const subpath of subpaths) {
  const specifier = subpath === "." ? "userharbor" : `userharbor/${subpath.slice(2)}`
  try {
    const imported = Object.keys(await import(specifier))
    const required = Object.keys(require(specifier)).filter((key) => key !== "__esModule" && key !== "module.exports")
    if (imported.length === 0) throw new Error("no exports")
    if (required.join() !== imported.join()) throw new Error(`require gives ${required} but import ${imported}`)
    console.log(`${specifier}: ${imported.join(", ")}`)
  } catch (error) {
    failed++
    console.error(`${specifier}: ${error instanceof Error ? error.message : error}`)
  }
}
console.log(
  `${subpaths.length - failed} of ${subpaths.length} entry points load with import and require on ${process.version}`
)
process.exit(failed === 0 ? 0 : 1)
