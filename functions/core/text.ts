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

/**
 * Characters that must not reach a terminal or a plain-text message raw: C0 controls other
 * than tab and newline (escape sequences can clear a terminal, set its title, write the
 * clipboard or forge a link; `\r` overwrites what was printed), DEL, C1 controls, and the
 * bidirectional overrides and isolates, which reorder how the rest of a line reads.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Untrusted text with every {@link UNPRINTABLE} character shown as its `\uXXXX` escape instead. */
export function visibleControls(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Untrusted text on one line: {@link visibleControls}, and every run of white space (newlines too) as one space. */
export function oneLine(text: string): string {
  return visibleControls(text).replace(/\s+/g, ' ').trim();
}
