// The byte-level JSON check must accept exactly what JSON.parse accepts: it replaces JSON.parse in
// the migration preflight, so a difference either refuses a good log or lets a broken one through.
import assert from 'node:assert/strict';
import test from 'node:test';
import { chunkArea } from '../src/migrate/chunk-worker.ts';
import { isJsonText, linesCheck, syntaxInstance, syntaxMemory } from '../src/migrate/json-syntax.ts';

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
    assert.equal(firstBadFed(text, () => 1 + Math.floor(r() * 24)), firstBadLineByParse(text), JSON.stringify(text.toString('latin1')));
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

test('strings of every length up to 80, with a special byte at every place, whole and chunked (the 16-byte string scan)', () => {
  const r = rng(1601);
  const specials = ['"', '\\"', '\\\\', '\\u00e9', '\\x', '\\u12', '\t', '\u0001', '\n', 'é', '\u0000', '\u007f', '\u00ff'];
  for (let len = 0; len <= 80; len++) {
    for (let at = 0; at <= len; at++) {
      const s = 'a'.repeat(at) + specials[(len * 7 + at) % specials.length] + 'b'.repeat(len - at);
      for (const text of [`"${s}"`, `"${s}`, `["${s}", 1]`, `{"${s}": "${s}"}`]) {
        const bytes = Buffer.from(text, 'utf8');
        check(bytes);
        // As a JSON Lines stream after a good line, fed in random pieces.
        const stream = Buffer.concat([Buffer.from('{"ok": true}\n'), bytes, Buffer.from('\n')]);
        assert.equal(firstBadFed(stream, () => 1 + Math.floor(r() * 40)), firstBadLineByParse(stream), JSON.stringify(stream.toString('latin1')));
      }
    }
  }
});

test('a document never reads past its own bytes (an unterminated string after a longer one)', () => {
  for (let n = 0; n <= 40; n++) {
    assert.equal(isJsonText(Buffer.from(`"${'a'.repeat(n + 20)}"`), 0, n + 22), true);
    const cut = Buffer.from(`"${'a'.repeat(n)}`);
    assert.equal(isJsonText(cut, 0, cut.length), false, `unterminated string of ${n} bytes`);
  }
});

test('documents and lines larger than the 1 MiB piece the module takes at a time', () => {
  const items = Array.from({ length: 60_000 }, (_, i) => `"item ${i} ${'x'.repeat(i % 90)}"`);
  const doc = Buffer.from(`[${items.join(',\n')}]`);
  assert.ok(doc.length > 3 << 20);
  assert.equal(isJsonText(doc, 0, doc.length), true);
  const broken = Buffer.from(doc);
  broken[Math.floor(broken.length * 0.8)] = 0x01; // a control byte inside a string, deep in
  assert.equal(isJsonText(broken, 0, broken.length), parses(broken));
  assert.equal(parses(broken), false);
  // The same text as one JSON line (newlines inside a value end the line: the first line is bad).
  const lines = linesCheck();
  lines.feed(doc);
  assert.equal(lines.end(), 1);
  const oneLine = Buffer.from(`[${items.join(', ')}]\n{"next": 2}\n{bad\n`);
  const l2 = linesCheck();
  l2.feed(oneLine);
  assert.equal(l2.end(), 3);
});

test('streams checked at once keep their own state, and whole documents checked between them do not disturb them', () => {
  const a = linesCheck();
  const b = linesCheck();
  a.feed(Buffer.from('{"a": "first half'));
  b.feed(Buffer.from('[1, 2'));
  assert.equal(isJsonText(Buffer.from('{"x": 1}'), 0, 8), true);
  assert.equal(isJsonText(Buffer.from('{"x": '), 0, 6), false);
  a.feed(Buffer.from(' second half"}\n{"b": 2}\n'));
  b.feed(Buffer.from(', 3]\n{"c": }\n'));
  assert.equal(a.end(), null);
  assert.equal(b.end(), 2);
});

/** linesCheck over `text` fed in chunks of `size` bytes. */
function firstBadInChunks(text: string, size: number): number | null {
  return firstBadFed(Buffer.from(text), () => size);
}

test('finds the first bad line, at any chunk size', () => {
  const cases: [string, number | null][] = [
    ['{"a":1}\n{"b":\n{"c":3}\n', 2],
    ['{"a":1}\n{"b":2}', null],
    ['{"a":1}\n{"b":', 2],
    ['', null],
    ['\n\n{"a":1}\n\n', null],
    ['{"a":1}\n{"b":2}\n{"c":"ünï😀"}\n{"d":4}x\n', 4],
  ];
  for (const [text, want] of cases) {
    for (const size of [1, 2, 3, 5, 7, 64, 1 << 20]) {
      assert.equal(firstBadInChunks(text, size), want, `${JSON.stringify(text)} with ${size}-byte chunks`);
    }
  }
});

test('multi-byte characters split across chunks still parse', () => {
  const line = JSON.stringify({ message: 'Größe 日本語 😀'.repeat(50) });
  const text = Array.from({ length: 200 }, () => line).join('\n') + '\n';
  for (const size of [1, 3, 7, 101, 4096]) assert.equal(firstBadInChunks(text, size), null, `${size}-byte chunks`);
});

// The block checker (src/wasm/json-syntax.ts `fast`) takes whole lines of a chunk 64 bytes at a
// time and hands any line it cannot vouch for to the byte machine. It must never vouch for a bad
// line, and must not change which line is reported first, wherever the 64-byte blocks fall.

/** Log-like lines: the Python tool's shape, with escapes, numbers, literals, nesting and noise. */
function logLine(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const text = () =>
    pick(['', 'Completed item: clarifying_questions', 'quote \\" inside', 'back\\\\slash', 'tab\\tand\\nnewline', 'caf\\u00e9', 'slash \\/ ok', 'Größe 日本語 😀', 'x'.repeat(Math.floor(r() * 90))]);
  const atom = () => pick(['null', 'true', 'false', '0', '-1', '3.25', '1e21', '-2.5E-7', '123456789', '0.5e+3']);
  const value = (depth: number): string => {
    const k = r() * (depth > 2 ? 2 : 4);
    if (k < 1) return `"${text()}"`;
    if (k < 2) return atom();
    if (k < 3) return `[${Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1)).join(pick([',', ', ', ' , ']))}]`;
    return `{${Array.from({ length: Math.floor(r() * 4) }, () => `"${pick(['reason', 'notes', 'n', 'é'])}"${pick([':', ': ', ' :\t'])}${value(depth + 1)}`).join(pick([',', ', ']))}}`;
  };
  if (r() < 0.05) return pick(['', '  ', '\t\r', '[]', '"just a string"', '42']);
  const fields = [
    `"timestamp": "2024-01-08T09:00:${String(Math.floor(r() * 60)).padStart(2, '0')}.200000Z"`,
    `"event_type": "${pick(['item_completed', 'item_skipped', 'phase_started'])}"`,
    `"workflow_id": "wf_36de1c52"`,
    `"phase_id": ${pick(['null', '"PLAN"'])}`,
    `"message": "${text()}"`,
    `"details": ${value(1)}`,
    `"actor": "system"`,
  ];
  return `{${fields.join(', ')}}${pick(['', '', ' ', '\r'])}`;
}

/** Breaks bytes the ways a crash or an editor would: a byte (of `noise`) inserted, a byte dropped or changed, a cut. */
function mutateBytes(b: Buffer, r: () => number, noise: readonly string[]): Buffer {
  const at = Math.floor(r() * (b.length + 1));
  const op = r();
  let out: Buffer;
  if (op < 0.4) out = Buffer.concat([b.subarray(0, at), Buffer.from(noise[Math.floor(r() * noise.length)]!, 'latin1'), b.subarray(at)]);
  else if (op < 0.75) out = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
  else if (op < 0.9 && at < b.length) (out = Buffer.from(b))[at] = Math.floor(r() * 256);
  else out = b.subarray(0, at);
  return out;
}

/** A broken line (mutateBytes), still one line. */
function mutate(line: string, r: () => number): Buffer {
  const noise = ['"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', '.', 'e', ' ', '\t', 'n', 'u', 'x', '\u0001', '\u00ff', '\r'];
  return Buffer.from(mutateBytes(Buffer.from(line, 'utf8'), r, noise).map((c) => (c === 0x0a ? 0x20 : c)));
}

/** Lines joined into a JSON Lines stream. */
function stream(lines: (string | Buffer)[], finalNewline: boolean): Buffer {
  const parts = lines.flatMap((l, i) => [i ? Buffer.from('\n') : Buffer.alloc(0), typeof l === 'string' ? Buffer.from(l, 'utf8') : l]);
  return Buffer.concat([...parts, Buffer.from(finalNewline ? '\n' : '')]);
}

/** linesCheck over `bytes` fed in chunks whose sizes `size()` gives. */
function firstBadFed(bytes: Buffer, size: () => number): number | null {
  const lines = linesCheck();
  for (let at = 0; at < bytes.length; ) {
    const n = size();
    lines.feed(bytes.subarray(at, at + n));
    at += n;
  }
  return lines.end();
}

test('JSON Lines in big chunks (the block checker): the first bad line agrees with JSON.parse on 3,000 log-like streams', () => {
  const r = rng(20261206);
  for (let n = 0; n < 3_000; n++) {
    const count = 1 + Math.floor(r() * 60);
    const badRate = n % 4 === 0 ? 0 : 0.02 + r() * 0.1;
    const lines = Array.from({ length: count }, () => {
      const line = logLine(r);
      return r() < badRate ? mutate(line, r) : line;
    });
    const bytes = stream(lines, r() < 0.7);
    const want = firstBadLineByParse(bytes);
    const sizes = [() => bytes.length || 1, () => 4096, () => 1 + Math.floor(r() * 700)];
    for (const size of sizes) assert.equal(firstBadFed(bytes, size), want, JSON.stringify(bytes.toString('latin1')));
  }
});

test('the block checker at every 64-byte alignment: escapes, quotes, numbers and line ends on block edges', () => {
  const tricky = [
    '{"a": "x\\\\"}',
    '{"a": "x\\\\\\"y"}',
    '{"a": "x\\\\\\\\", "b": 1}',
    '{"a": "\\"\\"\\"", "b": [1.5e-3, -0, true]}',
    '{"a": "x\\"}',
    '{"a": "\\u00e9\\u12"}',
    '{"a": 12345678901234567890.125e+10}',
    '{"a": 1.}',
    '{"a": "tab\there"}',
    '{"a": nul}',
    '{"a": [[[[[[]]]]]]}',
    '"\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\"',
    '{}',
    '',
    ' \r',
  ];
  for (const line of tricky) {
    for (let shift = 0; shift < 70; shift++) {
      // A good line of `shift` bytes first moves everything after it along the 64-byte blocks.
      const pad = shift < 2 ? '' : `"${'p'.repeat(shift - 2)}"`;
      const text = Buffer.from([pad, line, pad, line, '{"z": 0}', ''].join('\n'), 'latin1');
      assert.equal(firstBadFed(text, () => text.length), firstBadLineByParse(text), JSON.stringify(text.toString('latin1')));
    }
  }
});

test('the block checker hands deep nesting (past its 64 levels) to the byte machine', () => {
  for (const depth of [63, 64, 65, 200]) {
    const good = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const bad = `${'['.repeat(depth)}${']'.repeat(depth - 1)}`;
    for (const [text, want] of [
      [`{"a": 1}\n${good}\n{"b": 2}\n`, null],
      [`{"a": 1}\n${bad}\n{"b": 2}\n`, 2],
      [`${good}\n${good}\n${bad}\n`, 3],
    ] as const) {
      const bytes = Buffer.from(text);
      assert.equal(firstBadFed(bytes, () => bytes.length), want, `depth ${depth}: ${text.slice(0, 40)}`);
    }
  }
});

test('in a chunk area (as the worker does): lines checked where they lie, the block checker vouching for them, the bytes untouched', () => {
  const r = rng(5);
  // 5,000 log lines, then one nested 100,000 deep (the byte machine's stack grows above heapBase).
  const deep = Buffer.from(`{"a": ${'['.repeat(100_000)}${']'.repeat(100_000)}}\n`);
  const text = Buffer.concat([stream(Array.from({ length: 5_000 }, () => logLine(r)), true), deep]);
  const area = chunkArea(text.length);
  const inArea = Buffer.from(area.buffer, area.at, text.length);
  inArea.set(text);
  const ex = syntaxInstance(area.memory, area.heapBase);
  ex.reset(0);
  assert.equal(ex.scan(area.at, text.length), 0);
  assert.equal(ex.finish(), 0);
  assert.equal(ex.vouched(), 5_000, 'lines the block checker vouched for');
  assert.ok(inArea.equals(text), 'the instance wrote nothing below heapBase');
  ex.reset(0);
  inArea[text.length - 3] = 0x7d; // the deep line's last ']' becomes '}'
  assert.equal(ex.scan(area.at, text.length), 5_001);
});

// Whole documents (checkpoints, states) go to the block checker too when they come in one piece:
// there a newline is whitespace, and the bytes after the document are left over from earlier ones.

/** One instance for every document, as isJsonText has: whether it accepts, and whether the block checker vouched. */
const docMemory = syntaxMemory();
const docInstance = syntaxInstance(docMemory);
function docCheck(bytes: Buffer): { ok: boolean; vouched: boolean } {
  docInstance.reset(1);
  const ptr = docInstance.prepare(bytes.length);
  new Uint8Array(docMemory.buffer, ptr, bytes.length).set(bytes);
  const ok = docInstance.scan(ptr, bytes.length) === 0 && docInstance.finish() === 0;
  return { ok, vouched: docInstance.vouched() === 1 };
}

/** Random JSON values, nested at most `max` deep. */
function randomValue(r: () => number, max: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const strings = ['', 'id', 'check_roadmap', 'Größe 😀', 'quote"in', 'back\\slash', 'tab\t', 'x'.repeat(70), '\u2028'];
  const value = (depth: number): unknown => {
    const k = r() * (depth >= max ? 3 : 5);
    if (k < 1) return pick(strings);
    if (k < 2) return pick([0, -1, 3.25, 1e21, -2.5e-7, 123456789]);
    if (k < 3) return pick([true, false, null]);
    if (k < 4) return Array.from({ length: Math.floor(r() * 5) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(r() * 6) }, () => [pick(strings), value(depth + 1)]));
  };
  return value(1);
}

test('indented documents: the block checker vouches for every good one that ends in a bracket, quote or whitespace, and mutated ones agree with JSON.parse', () => {
  const r = rng(20261206);
  const noise = ['"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', '.', 'e', ' ', '\n', '\r', '\t', '\f', 'n', 'u', 'x', '\u0001', '\u00ff'];
  let vouched = 0;
  for (let n = 0; n < 6_000; n++) {
    const indent = [2, '\t', 0][n % 3];
    let bytes: Buffer = Buffer.from(JSON.stringify(randomValue(r, 6), null, indent) + ['', '\n', ' \n', '\r\n'][n % 4], 'utf8');
    if (n % 2 === 0) {
      // A document ending in a number or literal goes to the byte machine (the block checker reads past tokens).
      const ends = /[}\]" \n\r\t]$/.test(bytes.toString('latin1'));
      assert.deepEqual(docCheck(bytes), { ok: true, vouched: ends }, JSON.stringify(bytes.toString('latin1')));
      if (ends) vouched++;
    }
    for (let m = 1 + Math.floor(r() * 2); m > 0; m--) bytes = mutateBytes(bytes, r, noise);
    const got = docCheck(bytes);
    assert.equal(got.ok, parses(bytes), JSON.stringify(bytes.toString('latin1')));
    if (got.vouched) assert.ok(got.ok, 'vouched for a bad document');
  }
  assert.ok(vouched > 2_000, `the block checker vouched for only ${vouched} of 3,000 good documents`);
});

test('a document cut anywhere is judged on its own bytes, not on those left over after it from a longer one', () => {
  const r = rng(77);
  const docs = [
    '[true]', '[false]', '{"a": null}', '[12345, -0.5e+10]', '"abc"', '"a\\"', '"\\u00e9"', '{"a": "x\\"y"}', '[[1], {"b": [2]}]',
    ...Array.from({ length: 150 }, (_, i) => JSON.stringify(randomValue(r, 4), null, i % 2 ? 2 : undefined)),
  ];
  for (const text of docs) {
    const whole = Buffer.from(text, 'utf8');
    for (let cut = 0; cut < whole.length; cut++) {
      docCheck(whole); // leaves the whole document's bytes after the cut one
      const part = whole.subarray(0, cut);
      assert.equal(docCheck(part).ok, parses(part), JSON.stringify(part.toString('latin1')));
    }
  }
});

test('documents at every 64-byte alignment: escapes, quotes, numbers and newlines on block edges', () => {
  const tricky = [
    '{\n  "a": "x\\\\"\n}',
    '{\n\t"a": "x\\\\\\"y",\n\t"b": [1.5e-3, -0, true]\n}\n',
    '{"a": "x\\"}',
    '{"a": "\\u00e9\\u12"}',
    '[\n1\n,\n2\n]',
    '{"a": "line\nbreak"}',
    '{"a": 1.}',
    '{"a": nul}',
    '{"a": [[[[[[]]]]]]}\n\n',
    '"\\\\\\\\"',
    '{}\f',
    '{}{}',
    '{} x',
  ];
  for (const doc of tricky) {
    for (let shift = 0; shift < 70; shift++) {
      const text = Buffer.from(' \n\t\r'.repeat(18).slice(0, shift) + doc, 'latin1');
      check(text);
      assert.equal(docCheck(text).ok, parses(text), JSON.stringify(text.toString('latin1')));
    }
  }
});
