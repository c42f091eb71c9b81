// Prints the README's install commands (the first sh block under "## Install"), one per line, with the package
// name `userharbor` replaced by the tarball given as argument, so the consumer check installs exactly what the
// README tells a user to install.
import { readFileSync } from "node:fs"

const [readme, tarball] = process.argv.slice(2)
const text = readFileSync(readme, "utf8")
const section = text.split(/^## /m).find((part) => part.startsWith("Install\n"))
const block = section?.match(/```sh\n([\s\S]*?)```/)?.[1]
if (block === undefined) {
  console.error(`${readme}: no sh block under "## Install"`)
  process.exit(1)
}
const commands = block.split("\n")
  .map((line) => line.replace(/\s+#.*$/, "").trim())
  .filter((line) => line.length > 0)
  .flatMap((line) => line.split(/\s*&&\s*/))
for (const command of commands) {
  if (!/^npm install( |$)/.test(command)) {
    console.error(`README install block: not an npm install command: ${command}`)
    process.exit(1)
  }
  const words = command.split(/\s+/)
  const unpinned = words.slice(2).filter((word) =>
    !word.startsWith("-") && word !== "userharbor" && !/.@[~^\d]/.test(word)
  )
  if (unpinned.length > 0) {
    console.error(
      `README install block: no version range on ${unpinned.join(", ")} (the registry's latest may be Effect 4)`
    )
    process.exit(1)
  }
  console.log(words.map((word) => (word === "userharbor" ? tarball : word)).join(" "))
}
