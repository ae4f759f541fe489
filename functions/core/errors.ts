/** Base class of every error the product raises on purpose; anything else is a bug. */
export class DoctorError extends Error {
  override readonly name: string = 'DoctorError';
}

/**
 * Input that is not a usable ECS event or task. Names the file (when known) and the
 * field path (`detail.containers[1].exitCode`) so a user can fix the input.
 */
export class InputError extends DoctorError {
  override readonly name: string = 'InputError';
  constructor(
    readonly detail: string,
    readonly field: string | undefined,
    readonly file: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(formatLocated(detail, field, file), options);
  }

  /** The same error, now knowing which file it came from. */
  inFile(file: string): InputError {
    return new InputError(this.detail, this.field, file, { cause: this.cause });
  }
}

/** A pattern file that breaks the catalog schema or its own examples. */
export class PatternError extends DoctorError {
  override readonly name: string = 'PatternError';
  constructor(
    readonly detail: string,
    readonly field: string | undefined,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(formatLocated(detail, field, file), options);
  }
}

function formatLocated(detail: string, field: string | undefined, file: string | undefined): string {
  const where = [file, field ? `field ${field}` : undefined].filter(Boolean).join(': ');
  return where ? `${where}: ${detail}` : detail;
}

/** Renders a zod-style path (`['detail', 'containers', 1, 'exitCode']`) as `detail.containers[1].exitCode`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
