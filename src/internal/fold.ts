/**
 * The comparison form shared by usernames and the password policy: NFKC, so compatibility characters (`ﬁ`,
 * full-width letters) collide with their plain forms, then a full case fold (upper then lower, so `ß` matches
 * `SS`), then NFKC again because case mapping can denormalise.
 */
export const foldCase = (text: string): string => text.normalize("NFKC").toUpperCase().toLowerCase().normalize("NFKC")

// Code points that show nothing or nothing of their own: default-ignorables (zero-width spaces and joiners, BOM,
// variation selectors, Hangul fillers), controls, format characters, combining marks, separators (spaces), and
// unassigned, private-use and surrogate code points.
const invisible = /[\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{M}\p{Z}\p{Cn}\p{Co}\p{Cs}]/gu

/** The text without anything that shows nothing by itself. */
export const visible = (text: string): string => text.replace(invisible, "")
