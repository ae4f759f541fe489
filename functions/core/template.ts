const PLACEHOLDER = /\{\{\s*([A-Za-z][\w]*)\s*\}\}/g;

/**
 * Fills `{{name}}` placeholders in pattern text with values from the stop (parameters
 * pulled from the reason, and the task's region, cluster, service…). A placeholder with no
 * value becomes `<name>`, so a fix never shows an empty hole or a made-up value.
 */
export function fillPlaceholders(text: string, values: Readonly<Record<string, string | undefined>>): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    return value === undefined || value === '' ? `<${name}>` : value;
  });
}

/** The placeholder names a text uses. */
export function placeholdersOf(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
}
