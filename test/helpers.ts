// Paths shared by the tests. Tests run compiled, from dist/test/, against the source tree's files.

import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const MODELS = path.join(ROOT, 'models');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
