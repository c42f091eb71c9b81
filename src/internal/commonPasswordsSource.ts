/**
 * Derives the common-password list from `@zxcvbn-ts/language-common` (MIT), the list zxcvbn uses: entries are
 * NFC-normalised, lower-cased, de-duplicated, and only those of at least 8 code points are kept, because a shorter
 * password already fails the minimum length. `test/unit/internal/commonPasswords.test.ts` checks that the committed
 * list still equals this derivation, so the runtime needs no dependency for it.
 */
export const deriveCommonPasswords = (source: ReadonlyArray<string>): ReadonlyArray<string> => [
  ...new Set(source.map((entry) => entry.normalize("NFC").toLowerCase()).filter((entry) => [...entry].length >= 8))
]
