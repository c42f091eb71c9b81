// Runs after `tsc -p tsconfig.build.json`. The common-password list and the confusables table are data: their compiled
// modules (dist/internal/commonPasswords.js, 186 kB; dist/internal/confusablesData.js, 139 kB) are the one copy the
// package ships. Its TypeScript source is left out of
// the package (package.json `files`), so its source map and declaration map would point at a missing file, which
// bundlers and debuggers warn about; the compiled module reads the same as its source (one string constant), so it
// ships without maps. Every other module keeps its maps, which point at the shipped src/.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"

const dataModules = ["dist/internal/commonPasswords", "dist/internal/confusablesData"]

for (const base of dataModules) {
  for (const [file, map] of [[`${base}.js`, `${base}.js.map`], [`${base}.d.ts`, `${base}.d.ts.map`]]) {
    if (!existsSync(file)) {
      console.error(`finish-build: ${file} is missing; was the build run?`)
      process.exit(1)
    }
    const text = readFileSync(file, "utf8")
    const stripped = text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n")
    if (stripped === text && existsSync(map)) {
      console.error(`finish-build: no sourceMappingURL comment at the end of ${file}`)
      process.exit(1)
    }
    writeFileSync(file, stripped)
    rmSync(map, { force: true })
  }
}
