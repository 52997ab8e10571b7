// infergate's own version, read once from package.json (reported by GET /v2 and the CLI).

import { readFileSync } from 'node:fs';
import * as path from 'node:path';

// dist/src/version.js → the package root is two levels up.
export const INFERGATE_VERSION: string = (
  JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
).version;
