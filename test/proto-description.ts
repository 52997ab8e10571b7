// A wire-level description of .proto files (every message, field, enum and RPC), built from our
// protos/ with protobufjs in exactly the JSON layout scripts/triton/describe_protos.py prints for
// the descriptors Triton's Python client ships, and a diff of two such descriptions. Two files
// with no difference encode and decode each other's bytes identically.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

export interface FieldShape {
  name: string;
  number: number;
  label: 'optional' | 'required' | 'repeated';
  /** The .proto scalar name, or 'message' / 'enum'. */
  type: string;
  /** Full name without a leading dot; '' for scalars. */
  type_name: string;
  oneof: string | null;
  proto3_optional: boolean;
  packed: boolean;
}

export interface MessageShape {
  file: string;
  map_entry: boolean;
  oneofs: string[];
  fields: FieldShape[];
}

export interface ProtoDescription {
  files: Record<string, { package: string; syntax: string; dependencies: string[] }>;
  messages: Record<string, MessageShape>;
  enums: Record<string, { file: string; values: Record<string, number> }>;
  services: Record<
    string,
    {
      file: string;
      methods: Record<string, { input_type: string; output_type: string; client_streaming: boolean; server_streaming: boolean }>;
    }
  >;
}

// Types that may be packed on the wire (varints and fixed widths); strings, bytes, messages never.
const PACKABLE = new Set(['double', 'float', 'int64', 'uint64', 'int32', 'fixed64', 'fixed32', 'bool', 'uint32', 'enum', 'sfixed32', 'sfixed64', 'sint32', 'sint64']);

/** Describes `files` (names inside `dir`) and everything they import. */
export function describeProtoFiles(dir: string, files: readonly string[]): ProtoDescription {
  const out: ProtoDescription = { files: {}, messages: {}, enums: {}, services: {} };
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(dir, target);
  root.loadSync([...files], { keepCase: true });
  root.resolveAll();

  for (const file of root.files) {
    const source = fs.readFileSync(file, 'utf8');
    // A separate parse for the file-level facts protobufjs does not keep on the merged root.
    const parsed = protobuf.parse(source, new protobuf.Root(), { keepCase: true });
    out.files[path.basename(file)] = { package: parsed.package ?? '', syntax: syntaxOf(source), dependencies: parsed.imports ?? [] };
  }
  walk(root, out);
  return out;
}

/** Every way `ours` differs from `theirs` (Triton's), one line each; [] when they agree. */
export function diffDescriptions(ours: ProtoDescription, theirs: ProtoDescription): string[] {
  const problems: string[] = [];
  diffRecords('file', ours.files, theirs.files, problems, (name, a, b) => {
    diffProps(`file ${name}`, a, b, problems);
  });
  diffRecords('enum', ours.enums, theirs.enums, problems, (name, a, b) => {
    diffProps(`enum ${name}`, { file: a.file }, { file: b.file }, problems);
    diffRecords(`value of enum ${name}:`, a.values, b.values, problems, (value, x, y) => {
      if (x !== y) problems.push(`enum ${name} value ${value}: ours is ${x}, Triton's is ${y}`);
    });
  });
  diffRecords('message', ours.messages, theirs.messages, problems, (name, a, b) => {
    diffProps(`message ${name}`, { file: a.file, map_entry: a.map_entry, oneofs: [...a.oneofs].sort() }, { file: b.file, map_entry: b.map_entry, oneofs: [...b.oneofs].sort() }, problems);
    diffRecords(`field of message ${name}:`, byName(a.fields), byName(b.fields), problems, (field, x, y) => {
      diffProps(`message ${name} field ${field}`, x, y, problems);
    });
  });
  diffRecords('service', ours.services, theirs.services, problems, (name, a, b) => {
    diffProps(`service ${name}`, { file: a.file }, { file: b.file }, problems);
    diffRecords(`method of service ${name}:`, a.methods, b.methods, problems, (method, x, y) => {
      diffProps(`service ${name} method ${method}`, x, y, problems);
    });
  });
  return problems;
}

function walk(ns: protobuf.NamespaceBase, out: ProtoDescription): void {
  for (const obj of ns.nestedArray) {
    if (obj instanceof protobuf.Type) {
      describeType(obj, out);
    } else if (obj instanceof protobuf.Enum) {
      out.enums[fullName(obj)] = { file: fileOf(obj), values: { ...obj.values } };
    } else if (obj instanceof protobuf.Service) {
      const methods: ProtoDescription['services'][string]['methods'] = {};
      for (const m of obj.methodsArray) {
        methods[m.name] = {
          input_type: fullName(requireResolved(m.resolvedRequestType, m.name)),
          output_type: fullName(requireResolved(m.resolvedResponseType, m.name)),
          client_streaming: m.requestStream === true,
          server_streaming: m.responseStream === true,
        };
      }
      out.services[fullName(obj)] = { file: fileOf(obj), methods };
    }
    // Types, and packages, hold further types.
    if (obj instanceof protobuf.Namespace) walk(obj, out);
  }
}

function describeType(type: protobuf.Type, out: ProtoDescription): void {
  const name = fullName(type);
  const fields: FieldShape[] = [];
  for (const field of type.fieldsArray) {
    if (field instanceof protobuf.MapField) {
      // On the wire a map is a repeated message of (key = 1, value = 2); protoc names that
      // message after the field and nests it in the field's message, as Triton's descriptors show.
      const entry = `${name}.${camelCase(field.name)}Entry`;
      out.messages[entry] = {
        file: fileOf(type),
        map_entry: true,
        oneofs: [],
        fields: [
          { ...scalar('key', 1, field.keyType) },
          { ...shapeOf(field, 'value', 2), label: 'optional', packed: false },
        ],
      };
      fields.push({ name: field.name, number: field.id, label: 'repeated', type: 'message', type_name: entry, oneof: null, proto3_optional: false, packed: false });
    } else {
      fields.push(shapeOf(field, field.name, field.id));
    }
  }
  out.messages[name] = { file: fileOf(type), map_entry: false, oneofs: type.oneofsArray.map((o) => o.name), fields };
}

function shapeOf(field: protobuf.Field, name: string, number: number): FieldShape {
  const resolved = field.resolvedType;
  const type = resolved instanceof protobuf.Enum ? 'enum' : resolved instanceof protobuf.Type ? 'message' : field.type;
  const label = field.repeated ? 'repeated' : field.required ? 'required' : 'optional';
  return {
    name,
    number,
    label,
    type,
    type_name: resolved ? fullName(resolved) : '',
    oneof: field.partOf ? field.partOf.name : null,
    proto3_optional: field.options?.['proto3_optional'] === true,
    packed: label === 'repeated' && PACKABLE.has(type) && field.packed,
  };
}

function scalar(name: string, number: number, type: string): FieldShape {
  return { name, number, label: 'optional', type, type_name: '', oneof: null, proto3_optional: false, packed: false };
}

function requireResolved<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what}: type not resolved`);
  return value;
}

/** Full name as descriptors print it: 'inference.ModelConfig', without protobufjs's leading dot. */
function fullName(obj: protobuf.ReflectionObject): string {
  return obj.fullName.replace(/^\./, '');
}

function fileOf(obj: protobuf.ReflectionObject): string {
  return obj.filename ? path.basename(obj.filename) : '';
}

/** protoc's name for a map field's entry message: snake_case → CamelCase. */
function camelCase(snake: string): string {
  return snake
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The file's `syntax = "..."`; protoc's default, proto2, when it declares none. */
function syntaxOf(source: string): string {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  return /^\s*syntax\s*=\s*["'](proto[23])["']\s*;/m.exec(withoutComments)?.[1] ?? 'proto2';
}

function byName(fields: readonly FieldShape[]): Record<string, FieldShape> {
  return Object.fromEntries(fields.map((f) => [f.name, f]));
}

function diffRecords<T>(
  kind: string,
  ours: Record<string, T>,
  theirs: Record<string, T>,
  problems: string[],
  both: (name: string, ours: T, theirs: T) => void,
): void {
  for (const name of Object.keys(theirs).sort()) {
    const mine = ours[name];
    if (mine === undefined) problems.push(`${kind} ${name}: Triton's has it, ours does not`);
    else both(name, mine, theirs[name] as T);
  }
  for (const name of Object.keys(ours).sort()) {
    if (!(name in theirs)) problems.push(`${kind} ${name}: ours has it, Triton's does not`);
  }
}

function diffProps<T extends object>(what: string, ours: T, theirs: T, problems: string[]): void {
  const keys = new Set([...Object.keys(ours), ...Object.keys(theirs)]);
  for (const key of [...keys].sort()) {
    const a = JSON.stringify((ours as Record<string, unknown>)[key]);
    const b = JSON.stringify((theirs as Record<string, unknown>)[key]);
    if (a !== b) problems.push(`${what}: ${key} is ${a} in ours, ${b} in Triton's`);
  }
}
