// Where credentials come from: a file (JSON, or one credential per line) and the environment
// variable INFERGATE_CREDENTIALS (the line format, entries separated by ";" or newlines). Formats
// are described in docs/ingress.md. Every mistake names the file and line (or JSON path), or the
// variable and entry.

import { readFileSync, statSync } from 'node:fs';
import { type Credential, type CredentialInput, MAX_CREDENTIALS, makeCredential } from './credential';
import { IngressConfigError } from './ingress-config-error';

export const CREDENTIALS_ENV = 'INFERGATE_CREDENTIALS';
export const MAX_CREDENTIALS_FILE_BYTES = 1024 * 1024;

const LINE_FORMAT = 'expected "name secret [models]" (models: comma-separated names or "*")';

/** Reads and validates a credentials file; JSON when its first character is "{", lines otherwise. */
export function readCredentialsFile(file: string): Credential[] {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new IngressConfigError(`credentials file "${file}" is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof IngressConfigError) throw err;
    throw new IngressConfigError(`credentials file "${file}" cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (size > MAX_CREDENTIALS_FILE_BYTES) {
    throw new IngressConfigError(`credentials file "${file}" is ${size} bytes; the limit is ${MAX_CREDENTIALS_FILE_BYTES}`);
  }
  return parseCredentials(readFileSync(file, 'utf8'), file);
}

export function parseCredentials(text: string, file: string): Credential[] {
  return text.trimStart().startsWith('{') ? parseJson(text, file) : parseLines(text.split('\n'), (i) => `${file}:${i + 1}`);
}

/** Credentials from INFERGATE_CREDENTIALS; none when it is unset or blank. */
export function credentialsFromEnv(env: Readonly<Record<string, string | undefined>>): Credential[] {
  const text = env[CREDENTIALS_ENV];
  if (text === undefined) return [];
  return parseLines(text.split(/[;\n]/), (i) => `${CREDENTIALS_ENV} entry ${i + 1}`);
}

function parseLines(lines: string[], where: (index: number) => string): Credential[] {
  const out: Credential[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    if (fields.length < 2 || fields.length > 3) {
      const hint = fields.length > 3 ? '; separate model names with commas, not spaces' : '';
      throw new IngressConfigError(`${where(i)}: ${LINE_FORMAT}, got ${fields.length} field${fields.length === 1 ? '' : 's'}${hint}`);
    }
    push(out, makeCredential({ name: fields[0], secret: fields[1], models: fields[2] }, where(i)));
  });
  return out;
}

const JSON_KEYS = new Set(['name', 'secret', 'models']);

function parseJson(text: string, file: string): Credential[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new IngressConfigError(`credentials file "${file}" is not valid JSON: ${(err as Error).message}`);
  }
  const top = doc as Record<string, unknown>;
  const extra = Object.keys(top).filter((k) => k !== 'credentials');
  if (extra.length > 0) throw new IngressConfigError(`${file}: unknown key "${extra[0]}" (expected only "credentials")`);
  if (!Array.isArray(top.credentials)) throw new IngressConfigError(`${file}: "credentials" must be a list of { "name", "secret", "models" }`);
  const out: Credential[] = [];
  top.credentials.forEach((entry: unknown, i) => {
    const where = `${file}: credentials[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new IngressConfigError(`${where} must be an object { "name", "secret", "models" }`);
    }
    const unknown = Object.keys(entry).find((k) => !JSON_KEYS.has(k));
    if (unknown !== undefined) throw new IngressConfigError(`${where}: unknown key "${unknown}" (expected "name", "secret", "models")`);
    push(out, makeCredential(entry as CredentialInput, where));
  });
  return out;
}

function push(out: Credential[], c: Credential): void {
  if (out.length >= MAX_CREDENTIALS) throw new IngressConfigError(`${c.where}: more than ${MAX_CREDENTIALS} credentials`);
  out.push(c);
}
