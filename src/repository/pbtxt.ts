// A parser for the protobuf text format, the language of Triton's config.pbtxt. It yields a generic
// tree (field name → list of values); model-config.ts gives that tree its meaning. Kept schema-less
// so that a Triton config with fields infergate does not use still parses.

export class PbIdent {
  constructor(readonly name: string) {}
}

export type PbScalar = string | number | boolean | PbIdent;
export type PbValue = PbScalar | PbMessage;

export class PbMessage {
  readonly fields = new Map<string, PbValue[]>();

  add(name: string, value: PbValue): void {
    const list = this.fields.get(name);
    if (list) list.push(value);
    else this.fields.set(name, [value]);
  }

  all(name: string): PbValue[] {
    return this.fields.get(name) ?? [];
  }
}

export class PbtxtSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${message}`);
    this.name = 'PbtxtSyntaxError';
  }
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_.]/;
const NUMBER = /^[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?|inf(?:inity)?|nan)/i;

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  fail(message: string): never {
    const before = this.text.slice(0, this.pos);
    const line = before.split('\n').length;
    const column = this.pos - before.lastIndexOf('\n');
    throw new PbtxtSyntaxError(message, line, column);
  }

  /** Skips whitespace and `#` comments; returns the next character or '' at the end. */
  peek(): string {
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) return '';
      if (c === '#') {
        const nl = this.text.indexOf('\n', this.pos);
        this.pos = nl < 0 ? this.text.length : nl + 1;
      } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        this.pos++;
      } else {
        return c;
      }
    }
  }

  eat(c: string): boolean {
    if (this.peek() === c) {
      this.pos++;
      return true;
    }
    return false;
  }

  expect(c: string): void {
    if (!this.eat(c)) this.fail(`expected '${c}'`);
  }

  ident(): string {
    const start = this.pos;
    if (!IDENT_START.test(this.peek())) this.fail('expected a field name');
    while (this.pos < this.text.length && IDENT_PART.test(this.text[this.pos] ?? '')) this.pos++;
    return this.text.slice(start, this.pos);
  }
}

function parseString(cur: Cursor): string {
  let out = '';
  // Adjacent string literals concatenate, as in protobuf.
  while (cur.peek() === '"' || cur.peek() === "'") {
    const quote = cur.text[cur.pos++];
    for (;;) {
      const c = cur.text[cur.pos++];
      if (c === undefined || c === '\n') cur.fail('unterminated string');
      if (c === quote) break;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = cur.text[cur.pos++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '"': out += '"'; break;
        case "'": out += "'"; break;
        case 'x': {
          const hex = /^[0-9a-fA-F]{1,2}/.exec(cur.text.slice(cur.pos));
          if (!hex) cur.fail('bad \\x escape');
          out += String.fromCharCode(parseInt(hex[0], 16));
          cur.pos += hex[0].length;
          break;
        }
        default: {
          const oct = /^[0-7]{1,3}/.exec(cur.text.slice(cur.pos - 1));
          if (!oct) cur.fail(`bad escape '\\${e ?? ''}'`);
          out += String.fromCharCode(parseInt(oct[0], 8));
          cur.pos += oct[0].length - 1;
        }
      }
    }
  }
  return out;
}

function parseScalar(cur: Cursor): PbScalar {
  const c = cur.peek();
  if (c === '"' || c === "'") return parseString(cur);
  const m = NUMBER.exec(cur.text.slice(cur.pos));
  if (m && (c === '-' || c === '+' || c === '.' || /\d/.test(c))) {
    cur.pos += m[0].length;
    const hex = /^[-+]?0[xX]/.test(m[0]);
    const raw = hex ? m[0] : m[0].replace(/[fF]$/, '');
    const n = hex ? parseInt(raw, 16) : Number(raw);
    if (Number.isNaN(n) && !/nan/i.test(raw)) cur.fail(`bad number '${m[0]}'`);
    return n;
  }
  const id = cur.ident();
  if (id === 'true' || id === 'True' || id === 't') return true;
  if (id === 'false' || id === 'False' || id === 'f') return false;
  if (/^-?(inf|infinity)$/i.test(id)) return Infinity;
  if (/^nan$/i.test(id)) return NaN;
  return new PbIdent(id);
}

function parseMessageBody(cur: Cursor, close: string): PbMessage {
  const msg = new PbMessage();
  for (;;) {
    const c = cur.peek();
    if (c === close) {
      if (close !== '') cur.pos++;
      return msg;
    }
    if (c === '') cur.fail(`expected '${close}' before the end of the file`);
    const name = cur.ident();
    const colon = cur.eat(':');
    const next = cur.peek();
    if (next === '{' || next === '<') {
      cur.pos++;
      msg.add(name, parseMessageBody(cur, next === '{' ? '}' : '>'));
    } else if (next === '[') {
      cur.pos++;
      if (!cur.eat(']')) {
        do {
          const n = cur.peek();
          if (n === '{' || n === '<') {
            cur.pos++;
            msg.add(name, parseMessageBody(cur, n === '{' ? '}' : '>'));
          } else {
            msg.add(name, parseScalar(cur));
          }
        } while (cur.eat(','));
        cur.expect(']');
      }
    } else {
      if (!colon) cur.fail(`expected ':' after '${name}'`);
      msg.add(name, parseScalar(cur));
    }
    // Field separators are optional.
    if (!cur.eat(',')) cur.eat(';');
  }
}

/** Parses a whole text-format document (the top-level message has no braces). */
export function parsePbtxt(text: string): PbMessage {
  return parseMessageBody(new Cursor(text), '');
}
