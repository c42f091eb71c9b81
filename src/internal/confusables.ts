/**
 * The UTS #39 skeleton (section 4): two strings that look alike have the same skeleton. It is for comparing, never
 * for showing (`m` becomes `rn`).
 */
import { table } from "./confusablesData.js"

const prototypes: ReadonlyMap<string, string> = new Map(
  table.split("\n").map((entry) => {
    const [from = "", ...to] = entry
    return [from, to.join("")] as const
  })
)

/** NFD, each code point replaced by its prototype, NFD again. */
export const skeleton = (text: string): string => {
  let out = ""
  for (const char of text.normalize("NFD")) out += prototypes.get(char) ?? char
  return out.normalize("NFD")
}
