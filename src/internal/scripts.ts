/**
 * UTS #39 restriction levels (section 5.2), on the Script_Extensions property that Node's ICU provides through
 * regular expression property escapes, so the data follows the Node version. Only the script codes are listed here
 * (Unicode's `PropertyValueAliases.txt`, `sc`); `test/unit/internal/scripts.test.ts` checks that each one is known to the
 * engine and that they cover every letter, mark and digit it knows a script for.
 */

/** Every script code but Common, Inherited and Unknown. */
export const scriptCodes: ReadonlyArray<string> = [
  "Adlm",
  "Aghb",
  "Ahom",
  "Arab",
  "Armi",
  "Armn",
  "Avst",
  "Bali",
  "Bamu",
  "Bass",
  "Batk",
  "Beng",
  "Bhks",
  "Bopo",
  "Brah",
  "Brai",
  "Bugi",
  "Buhd",
  "Cakm",
  "Cans",
  "Cari",
  "Cham",
  "Cher",
  "Chrs",
  "Copt",
  "Cpmn",
  "Cprt",
  "Cyrl",
  "Deva",
  "Diak",
  "Dogr",
  "Dsrt",
  "Dupl",
  "Egyp",
  "Elba",
  "Elym",
  "Ethi",
  "Gara",
  "Geor",
  "Glag",
  "Gong",
  "Gonm",
  "Goth",
  "Gran",
  "Grek",
  "Gujr",
  "Gukh",
  "Guru",
  "Hang",
  "Hani",
  "Hano",
  "Hatr",
  "Hebr",
  "Hira",
  "Hluw",
  "Hmng",
  "Hmnp",
  "Hung",
  "Ital",
  "Java",
  "Kali",
  "Kana",
  "Kawi",
  "Khar",
  "Khmr",
  "Khoj",
  "Kits",
  "Knda",
  "Krai",
  "Kthi",
  "Lana",
  "Laoo",
  "Latn",
  "Lepc",
  "Limb",
  "Lina",
  "Linb",
  "Lisu",
  "Lyci",
  "Lydi",
  "Mahj",
  "Maka",
  "Mand",
  "Mani",
  "Marc",
  "Medf",
  "Mend",
  "Merc",
  "Mero",
  "Mlym",
  "Modi",
  "Mong",
  "Mroo",
  "Mtei",
  "Mult",
  "Mymr",
  "Nagm",
  "Nand",
  "Narb",
  "Nbat",
  "Newa",
  "Nkoo",
  "Nshu",
  "Ogam",
  "Olck",
  "Onao",
  "Orkh",
  "Orya",
  "Osge",
  "Osma",
  "Ougr",
  "Palm",
  "Pauc",
  "Perm",
  "Phag",
  "Phli",
  "Phlp",
  "Phnx",
  "Plrd",
  "Prti",
  "Rjng",
  "Rohg",
  "Runr",
  "Samr",
  "Sarb",
  "Saur",
  "Sgnw",
  "Shaw",
  "Shrd",
  "Sidd",
  "Sind",
  "Sinh",
  "Sogd",
  "Sogo",
  "Sora",
  "Soyo",
  "Sund",
  "Sunu",
  "Sylo",
  "Syrc",
  "Tagb",
  "Takr",
  "Tale",
  "Talu",
  "Taml",
  "Tang",
  "Tavt",
  "Telu",
  "Tfng",
  "Tglg",
  "Thaa",
  "Thai",
  "Tibt",
  "Tirh",
  "Tnsa",
  "Todr",
  "Toto",
  "Tutg",
  "Ugar",
  "Vaii",
  "Vith",
  "Wara",
  "Wcho",
  "Xpeo",
  "Xsux",
  "Yezi",
  "Yiii",
  "Zanb"
]

const byCode = scriptCodes.map((code) => [code, new RegExp(`\\p{Script_Extensions=${code}}`, "u")] as const)

// Common and Inherited characters (digits, combining marks used by many scripts) go with any script.
const anyScript = /[\p{Script_Extensions=Zyyy}\p{Script_Extensions=Zinh}]/u
const latinOnly = /^[\p{Script_Extensions=Latn}\p{Script_Extensions=Zyyy}\p{Script_Extensions=Zinh}]*$/u

// UTS #39 5.1: the augmented script sets, so that Han, kana and Hangul count as the writing systems they form.
const augment: Readonly<Record<string, ReadonlyArray<string>>> = {
  Hani: ["Hanb", "Jpan", "Kore"],
  Hira: ["Jpan"],
  Kana: ["Jpan"],
  Hang: ["Kore"],
  Bopo: ["Hanb"]
}

/** The augmented script set of one character; `undefined` for Common and Inherited (every script). */
const scriptsOf = (char: string): ReadonlySet<string> | undefined => {
  if (anyScript.test(char)) return undefined
  const scripts = new Set<string>()
  for (const [code, pattern] of byCode) {
    if (pattern.test(char)) {
      scripts.add(code)
      for (const extra of augment[code] ?? []) scripts.add(extra)
    }
  }
  return scripts
}

// The script combinations a Highly Restrictive identifier may mix: Latin with Japanese, Chinese or Korean.
const allowedMixes: ReadonlyArray<ReadonlySet<string>> = [
  new Set(["Latn", "Jpan"]),
  new Set(["Latn", "Hanb"]),
  new Set(["Latn", "Kore"])
]

/**
 * Whether the text meets UTS #39's Highly Restrictive level: all of it in one script (its resolved script set is
 * not empty), or Latin mixed only with Han and kana, Han and Bopomofo, or Han and Hangul. A character that has no
 * script the engine can name fails it.
 */
export const isHighlyRestrictive = (text: string): boolean => {
  if (latinOnly.test(text)) return true
  const sets: Array<ReadonlySet<string>> = []
  for (const char of text) {
    const scripts = scriptsOf(char)
    if (scripts === undefined) continue
    if (scripts.size === 0) return false
    sets.push(scripts)
  }
  const [first, ...rest] = sets
  if (first === undefined) return true
  const resolved = [...first].filter((script) => rest.every((set) => set.has(script)))
  if (resolved.length > 0) return true
  return allowedMixes.some((mix) => sets.every((set) => [...set].some((script) => mix.has(script))))
}
