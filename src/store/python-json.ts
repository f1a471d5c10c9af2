// Byte-for-byte `json.dumps(value, sort_keys=True)` of CPython (default separators ", " and ": ",
// ensure_ascii=True), so checksums and audit hashes agree with files the Python tool wrote.
import { compareText } from '../text-order.ts';

export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return pythonNumber(value);
    case 'string':
      return pythonString(value);
    case 'object': {
      if (Array.isArray(value)) return '[' + value.map(pythonJsonDumps).join(', ') + ']';
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort(comparePythonStrings);
      return '{' + keys.map((k) => pythonString(k) + ': ' + pythonJsonDumps(obj[k])).join(', ') + '}';
    }
    default:
      throw new TypeError(`cannot serialise ${typeof value}`);
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Python sorts str by code point; JS sorts by UTF-16 unit. They differ only above U+FFFF. */
function comparePythonStrings(a: string, b: string): number {
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return compareText(a, b);
  const ia = [...a];
  const ib = [...b];
  const n = Math.min(ia.length, ib.length);
  for (let i = 0; i < n; i++) {
    const d = ia[i]!.codePointAt(0)! - ib[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ia.length - ib.length;
}

function pythonNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  // JSON.parse cannot tell 1 from 1.0; integers are by far the common case in state files.
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  // repr(float): JS writes 1e-7 / 1e+21, Python 1e-07 / 1e+21.
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

// JSON.stringify already escapes exactly as Python does below U+007F (\b \f \n \r \t, other
// control characters as lower-case \u00XX); ensure_ascii then escapes every UTF-16 unit above.
const NON_ASCII = /[\u007f-\uffff]/g;
const escapeUnit = (c: string) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');

function pythonString(s: string): string {
  return JSON.stringify(s).replace(NON_ASCII, escapeUnit);
}

export function sha256Hex(text: string): string {
  // Required here, not imported: node:crypto drags in Node's streams, ~10 ms that `status` avoids
  // whenever its state was verified before (see readStateFile).
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const CHECKSUM_EXCLUDED = new Set(['_checksum', '_updated_at', '_version']);

/** The Python tool's state checksum: sha256 of the sorted dump without the three meta keys, 32 hex. */
export function stateChecksum(state: Record<string, unknown>): string {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) if (!CHECKSUM_EXCLUDED.has(k)) body[k] = v;
  return sha256Hex(pythonJsonDumps(body)).slice(0, 32);
}
