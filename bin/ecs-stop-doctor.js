#!/usr/bin/env node
// The package's command: runs the TypeScript CLI through tsx's loader (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
await import('../functions/cli/entry.ts');
