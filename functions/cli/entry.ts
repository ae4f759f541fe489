import { readFileSync } from 'node:fs';
import type { CliIo } from './io';
import { run } from './main';

const io: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin: () => readFileSync(0, 'utf8'),
  env: process.env,
};

process.exitCode = await run(process.argv.slice(2), io);
