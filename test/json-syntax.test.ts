// The byte-level JSON check must accept exactly what JSON.parse accepts: it replaces JSON.parse in
// the migration preflight, so a difference either refuses a good log or lets a broken one through.
import assert from 'node:assert/strict';
import test from 'node:test';
import { isBlank, isJsonText, linesCheck } from '../src/migrate/json-syntax.ts';

function parses(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function check(bytes: Buffer): void {
  assert.equal(isJsonText(bytes, 0, bytes.length), parses(bytes), `isJsonText(${JSON.stringify(bytes.toString('latin1'))})`);
}

test('agrees with JSON.parse on hand-picked edge cases', () => {
  const cases = [
    '{}', '[]', '""', '0', '-0', '1.5e+3', '1E-2', 'true', 'false', 'null', ' {"a": [1, 2, {"b": null}]} \r',
    '{"a":1,}', '[1,]', '[,1]', '{,}', '{"a"}', '{"a":}', '{1:2}', "{'a':1}", '01', '-', '1.', '.5', '1e', '1e+',
    '+1', '0x10', 'NaN', 'Infinity', 'tru', 'truex', 'nul', '"a', '"\\"', '"\\x"', '"\\u12"', '"\\u12G4"', '"\\uABCD"',
    '"\\/\\b\\f\\n\\r\\t"', '"tab\there"', '"\u0001"', '"\u007f"', '{"a":1}{"b":2}', '[1 2]', '{"a" 1}', '[[[[]]]]',
    '[[[[]]]', ']', '}', '', ' ', '\t', '[1]]', '{"a":{"b":{"c":[true,false,null]}}}', '"é"', '"😀"', '\u00a0{}',
    '\ufeff{}', '1 2', '[-]', '[--1]', '[1e5.5]', '{"a":1 "b":2}',
  ];
  for (const c of cases) check(Buffer.from(c, 'utf8'));
  // Invalid UTF-8 decodes to U+FFFD: fine inside a string, a bad token outside one.
  for (const bytes of [[0x22, 0xff, 0x22], [0x22, 0xe2, 0x22], [0xff], [0x5b, 0xc3, 0x5d], [0x22, 0xf0, 0x9f, 0x22]]) check(Buffer.from(bytes));
});

test('deep nesting beyond the initial stack', () => {
  const deep = Buffer.from('['.repeat(10_000) + ']'.repeat(10_000));
  assert.equal(isJsonText(deep, 0, deep.length), true);
  const open = Buffer.from('{"a":'.repeat(5_000) + '1' + '}'.repeat(4_999));
  assert.equal(isJsonText(open, 0, open.length), false);
});

test('only checks the given range', () => {
  const b = Buffer.from('xx{"a":[1]}yy');
  assert.equal(isJsonText(b, 2, 11), true);
  assert.equal(isJsonText(b, 2, 10), false, 'a truncated value must not borrow the bytes after its range');
  assert.equal(isBlank(Buffer.from('a \t\r b'), 1, 5), true);
  assert.equal(isBlank(Buffer.from(' x '), 0, 3), false);
});

/** A small seeded PRNG (mulberry32) so every run checks the same inputs and a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The reference: the first line (1-based) that is not blank (JSON whitespace only) and does not parse. */
function firstBadLineByParse(text: Buffer): number | null {
  const lines = text.toString('latin1').split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [k, line] of lines.entries()) {
    if (/^[ \t\r]*$/.test(line)) continue;
    if (!parses(Buffer.from(line, 'latin1'))) return k + 1;
  }
  return null;
}

test('linesCheck finds the same first bad line as JSON.parse line by line, however the bytes are chunked', () => {
  const r = rng(7);
  const pool = ['{"a": 1}', '{"event_type": "item_completed", "details": {"n": [1, 2.5e3, null]}}', '', '  ', '\r', '[]', '"x"', '{"a": "\\u00e9"}'];
  const bad = ['{"a": 1', '{"a": 1}}', '{"a"', 'x', '{"a": "tab\there"}', '{"a": 01}'];
  for (let n = 0; n < 3_000; n++) {
    const lines = Array.from({ length: 1 + Math.floor(r() * 12) }, () => {
      const from = r() < 0.08 ? bad : pool;
      return from[Math.floor(r() * from.length)]!;
    });
    const text = Buffer.from(lines.join('\n') + (r() < 0.5 ? '\n' : ''), 'latin1');
    const check = linesCheck();
    for (let at = 0; at < text.length; ) {
      const size = 1 + Math.floor(r() * 24);
      check.feed(text.subarray(at, at + size));
      at += size;
    }
    assert.equal(check.end(), firstBadLineByParse(text), JSON.stringify(text.toString('latin1')));
  }
});

test('agrees with JSON.parse on 30,000 random and mutated documents', () => {
  const r = rng(20261125);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const strings = ['', 'a', 'item_completed', 'é', '😀', 'quote"in', 'back\\slash', 'tab\t', 'nl\n', '\u0000', '\u001f', '\u2028'];
  const value = (depth: number): unknown => {
    const k = depth > 3 ? r() * 4 : r() * 6;
    if (k < 1) return pick(strings);
    if (k < 2) return pick([0, -1, 3.25, 1e21, -2.5e-7, 123456789]);
    if (k < 3) return pick([true, false, null]);
    if (k < 4) return pick(strings) + pick(strings);
    if (k < 5) return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [pick(strings), value(depth + 1)]));
  };
  const noise = ['"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', '+', '.', 'e', 'E', ' ', '\t', 't', 'n', 'u', 'x', '\u0001', '\u00ff'];
  for (let n = 0; n < 30_000; n++) {
    let bytes = Buffer.from(JSON.stringify(value(0), null, r() < 0.3 ? 1 : undefined).replace(/\n/g, ' '), 'utf8');
    const mutations = n % 3 === 0 ? 0 : 1 + Math.floor(r() * 3);
    for (let m = 0; m < mutations; m++) {
      const at = Math.floor(r() * (bytes.length + 1));
      const op = r();
      if (op < 0.35) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(noise), 'latin1'), bytes.subarray(at)]);
      else if (op < 0.7) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
      else if (op < 0.9 && at < bytes.length) bytes[at] = Math.floor(r() * 256);
      else bytes = bytes.subarray(0, at);
    }
    check(bytes);
  }
});
