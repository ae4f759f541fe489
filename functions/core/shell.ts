/** Characters a POSIX shell never treats specially in a word (outside an assignment's first word). */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes a value so a POSIX shell (sh, bash, zsh) reads it back as exactly one word with
 * exactly this text. A value made only of `[A-Za-z0-9_@%+=:,./-]` (every AWS id, ARN, region
 * and CIDR) is left bare, so the commands people copy stay readable; anything else is put in
 * single quotes, inside which nothing is special, with each `'` written as `'\''` (close the
 * quotes, an escaped quote, reopen). The empty string becomes `''`. Values from events and
 * snapshot files are untrusted: a cluster named `x; rm -rf ~` must stay a name.
 */
export function shellQuote(value: string): string {
  return SAFE_WORD.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
