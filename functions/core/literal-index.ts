const ALPHABET = 128; // literals are printable ASCII; any other character restarts the match

/**
 * Finds which of many literals occur in a text in one pass (an Aho–Corasick automaton,
 * compiled to a dense transition table). The catalog scans each stop reason once instead
 * of calling `includes` for every literal of every pattern.
 */
export class LiteralIndex {
  readonly size: number;
  private readonly transitions: Int32Array;
  private readonly outputs: ReadonlyArray<readonly number[]>;

  constructor(literals: readonly string[]) {
    this.size = literals.length;
    const children: Array<Map<number, number>> = [new Map()];
    const own: number[][] = [[]];
    literals.forEach((literal, id) => {
      let node = 0;
      for (let i = 0; i < literal.length; i += 1) {
        const code = literal.charCodeAt(i);
        if (code >= ALPHABET) throw new RangeError(`literal ${JSON.stringify(literal)} is not ASCII`);
        let child = children[node]?.get(code);
        if (child === undefined) {
          child = children.length;
          children.push(new Map());
          own.push([]);
          children[node]?.set(code, child);
        }
        node = child;
      }
      own[node]?.push(id);
    });

    // Breadth-first: every node's failure link is settled before its children need it.
    const transitions = new Int32Array(children.length * ALPHABET);
    const outputs: number[][] = own.map((ids) => [...ids]);
    const fail = new Int32Array(children.length);
    const queue: number[] = [];
    for (let code = 0; code < ALPHABET; code += 1) {
      const child = children[0]?.get(code) ?? 0;
      transitions[code] = child;
      if (child !== 0) queue.push(child);
    }
    for (let head = 0; head < queue.length; head += 1) {
      const node = queue[head] as number;
      outputs[node]?.push(...(outputs[fail[node] as number] ?? []));
      for (let code = 0; code < ALPHABET; code += 1) {
        const child = children[node]?.get(code);
        const viaFailure = transitions[(fail[node] as number) * ALPHABET + code] as number;
        if (child === undefined) {
          transitions[node * ALPHABET + code] = viaFailure;
        } else {
          transitions[node * ALPHABET + code] = child;
          fail[child] = viaFailure;
          queue.push(child);
        }
      }
    }
    this.transitions = transitions;
    this.outputs = outputs;
  }

  /** Flags, by literal id, the literals that occur in `text` (already lower-cased). */
  scan(text: string): Uint8Array {
    const found = new Uint8Array(this.size);
    let node = 0;
    for (let i = 0; i < text.length; i += 1) {
      const code = text.charCodeAt(i);
      node = code < ALPHABET ? (this.transitions[node * ALPHABET + code] as number) : 0;
      const ids = this.outputs[node] as readonly number[];
      for (let k = 0; k < ids.length; k += 1) found[ids[k] as number] = 1;
    }
    return found;
  }
}
