// Checks the unpacked tarball (argument: the directory holding package/): every `exports` target is there with
// its declarations and maps, the licence, changelog and README are there, every relative link in the shipped
// Markdown resolves inside the package, each data table (common passwords, confusables) ships once, and nothing
// repository-only ships.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative } from "node:path"

const root = join(process.argv[2], "package")
const problems = []
const files = []
const walk = (dir) => {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) walk(path)
    else files.push(relative(root, path))
  }
}
walk(root)
const has = (path) => files.includes(path)

const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
for (const [subpath, target] of Object.entries(manifest.exports)) {
  const targets = typeof target === "string" ? [target] : Object.values(target)
  for (const file of targets.map((path) => path.replace(/^\.\//, ""))) {
    if (!has(file)) problems.push(`exports ${subpath}: ${file} is not in the package`)
    if (file.endsWith(".js") && !has(`${file}.map`)) problems.push(`exports ${subpath}: no source map ${file}.map`)
    if (file.endsWith(".d.ts") && !has(`${file}.map`)) {
      problems.push(`exports ${subpath}: no declaration map ${file}.map`)
    }
  }
}
// `npx userharbor` runs the bin target directly: it must ship, with the shebang that makes it a node script.
for (const [name, target] of Object.entries(manifest.bin ?? {})) {
  const file = target.replace(/^\.\//, "")
  if (!has(file)) problems.push(`bin ${name}: ${file} is not in the package`)
  else if (!readFileSync(join(root, file), "utf8").startsWith("#!/usr/bin/env node\n")) {
    problems.push(`bin ${name}: ${file} does not start with #!/usr/bin/env node`)
  }
}
for (const file of files.filter((path) => path.endsWith(".map"))) {
  const map = JSON.parse(readFileSync(join(root, file), "utf8"))
  for (const source of map.sources) {
    if (!existsSync(join(root, dirname(file), source))) {
      problems.push(`${file}: its source ${source} is not in the package`)
    }
  }
}
for (const required of ["README.md", "LICENSE", "CHANGELOG.md"]) {
  if (!has(required)) problems.push(`${required} is not in the package`)
}
if (has("LICENSE") && !readFileSync(join(root, "LICENSE"), "utf8").startsWith("MIT License")) {
  problems.push("LICENSE is not the MIT licence package.json names")
}
if (has("CHANGELOG.md") && !readFileSync(join(root, "CHANGELOG.md"), "utf8").includes(`\n## ${manifest.version}\n`)) {
  problems.push(`CHANGELOG.md has no "## ${manifest.version}" entry`)
}
for (const doc of files.filter((path) => path.endsWith(".md"))) {
  const text = readFileSync(join(root, doc), "utf8")
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue
    const path = join(dirname(doc), target.replace(/#.*$/, ""))
    if (!has(path)) problems.push(`${doc}: link to ${target}, which is not in the package`)
  }
}
// a distinctive run of each data table: wherever it appears, the table is there
const dataTables = [
  ["the common-password list", /qwertyuiop\\n1234567890\\nsuperman/],
  ["the confusables table", /"mrn",\s*"\|l"/]
]
for (const [name, marker] of dataTables) {
  const copies = files.filter((path) => marker.test(readFileSync(join(root, path), "utf8")))
  if (copies.length !== 1) problems.push(`${name} ships ${copies.length} times: ${copies.join(", ")}`)
}
const repositoryOnly = files.filter((path) => /^(test|examples|bench|\.ci|scripts)\//.test(path))
if (repositoryOnly.length > 0) problems.push(`repository-only files ship: ${repositoryOnly.join(", ")}`)

if (problems.length > 0) {
  console.error(`package contents:\n  ${problems.join("\n  ")}`)
  process.exit(1)
}
console.log(`package contents: ${files.length} files; exports, maps, licence, changelog, links and data checked`)
