const MIN_LITERAL = 3;

/**
 * Finds, for a regular expression, a set of lower-case literals such that any text the
 * expression matches contains at least one of them: for each top-level alternative, its
 * longest run of required literal characters. Returns `undefined` when some alternative has
 * no usable literal (then no prefilter is possible). Conservative by construction: groups,
 * classes, escapes like `\s`, and characters made optional by `?`, `*` or `{0,…}` end a run.
 */
export function requiredLiterals(source: string): string[] | undefined {
  const literals: string[] = [];
  for (const alternative of topLevelAlternatives(source)) {
    const best = bestLiterals(alternative);
    if (!best) return undefined;
    literals.push(...best);
  }
  return literals.length > 0 ? literals : undefined;
}

/**
 * The best literal set for one alternative: its longest literal run, or the literals of a
 * required group (any of the group's alternatives must appear), whichever has the longer
 * shortest member.
 */
function bestLiterals(alternative: string): string[] | undefined {
  const { run, groups } = scan(alternative);
  let best: string[] | undefined = run.length >= MIN_LITERAL ? [run.toLowerCase()] : undefined;
  for (const inner of groups) {
    const options = requiredLiterals(inner);
    if (options && (!best || shortest(options) > shortest(best))) best = options;
  }
  return best;
}

function shortest(literals: readonly string[]): number {
  return Math.min(...literals.map((literal) => literal.length));
}

function topLevelAlternatives(source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i += 1) {
    const char = source[i];
    if (char === '\\') {
      i += 1;
    } else if (inClass) {
      if (char === ']') inClass = false;
    } else if (char === '[') {
      inClass = true;
    } else if (char === '(') {
      depth += 1;
    } else if (char === ')') {
      depth -= 1;
    } else if (char === '|' && depth === 0) {
      parts.push(source.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(source.slice(start));
  return parts;
}

/**
 * Splits one alternative into literal characters and breaks; returns the longest run and
 * the inner sources of the groups that must match (capturing or not, never optional).
 */
function scan(alternative: string): { run: string; groups: string[] } {
  const tokens: Array<string | null> = []; // a literal character, or null for "anything"
  const groups: Array<{ inner: string; token: number }> = [];
  let i = 0;
  while (i < alternative.length) {
    const char = alternative[i] as string;
    if (char === '\\') {
      const next = alternative[i + 1] ?? '';
      tokens.push(/[A-Za-z0-9]/.test(next) ? null : next);
      i += 2;
    } else if (char === '[') {
      i = skipClass(alternative, i);
      tokens.push(null);
    } else if (char === '(') {
      const end = skipGroup(alternative, i);
      const inner = groupBody(alternative.slice(i + 1, end - 1));
      if (inner !== undefined) groups.push({ inner, token: tokens.length });
      tokens.push(null);
      i = end;
    } else if (char === '?' || char === '*' || (char === '{' && /^\{0?,|^\{0\}/.test(alternative.slice(i)))) {
      // The previous character or group may be absent: it is not required.
      const optional = tokens.length - 1;
      if (groups.at(-1)?.token === optional) groups.pop();
      tokens.pop();
      tokens.push(null);
      i = char === '{' ? alternative.indexOf('}', i) + 1 : i + 1;
    } else if (char === '+' || char === '{') {
      tokens.push(null); // the previous character stays required; the run ends here
      i = char === '{' ? alternative.indexOf('}', i) + 1 : i + 1;
    } else if ('.^$'.includes(char)) {
      tokens.push(null);
      i += 1;
    } else {
      tokens.push(char);
      i += 1;
    }
  }
  let best = '';
  let run = '';
  for (const token of tokens) {
    if (token !== null && /^[\x20-\x7e]$/.test(token)) {
      run += token;
      if (run.length > best.length) best = run;
    } else {
      run = '';
    }
  }
  return { run: best, groups: groups.map((g) => g.inner) };
}

/** The pattern inside a group, without `?:` or `?<name>`; undefined for lookarounds. */
function groupBody(body: string): string | undefined {
  if (body.startsWith('?:')) return body.slice(2);
  const named = /^\?<([A-Za-z_]\w*)>/.exec(body);
  if (named) return body.slice(named[0].length);
  return body.startsWith('?') ? undefined : body;
}

function skipClass(source: string, start: number): number {
  for (let i = start + 1; i < source.length; i += 1) {
    if (source[i] === '\\') i += 1;
    else if (source[i] === ']') return i + 1;
  }
  return source.length;
}

function skipGroup(source: string, start: number): number {
  let depth = 0;
  for (let i = start; i < source.length; i += 1) {
    const char = source[i];
    if (char === '\\') i += 1;
    else if (char === '[') i = skipClass(source, i) - 1;
    else if (char === '(') depth += 1;
    else if (char === ')') {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  return source.length;
}
