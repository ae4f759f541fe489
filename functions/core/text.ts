/** A stop reason prepared for matching. */
export interface NormalizedText {
  readonly text: string;
  /** The text ended in `…` or `...`: ECS cut it (255 characters before 2025, 1,024 after). */
  readonly truncated: boolean;
}

const TRUNCATION = /(?:…|\.\.\.)\s*$/;

/**
 * Normalises a stop reason so one pattern serves every wording AWS emits:
 * typographic quotes become straight ones (the 2024 agent messages say "can’t"),
 * runs of white space (including newlines and no-break spaces) become one space, and a
 * trailing truncation marker is removed and remembered.
 */
export function normalizeText(raw: string): NormalizedText {
  let text = raw
    .replace(/[\u2018\u2019\u201B\u2032\u00B4]/g, "'")
    .replace(/[\u201C\u201D\u201F\u2033]/g, '"')
    .replace(/\s+/g, ' ')
    .trim();
  const truncated = text.length > 3 && TRUNCATION.test(text);
  if (truncated) text = text.replace(TRUNCATION, '').trimEnd();
  return { text, truncated };
}
