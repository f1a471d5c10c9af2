// AssemblyScript, compiled to WebAssembly by build/build-wasm.mjs (the host is
// src/migrate/json-syntax.ts). JSON syntax checked straight on the bytes: a JSON Lines stream (each
// line blank or one JSON value) or one JSON document.
//
// Accepts exactly what JSON.parse accepts of the bytes' UTF-8 decoding: invalid UTF-8 inside a
// string decodes to U+FFFD, which JSON allows, and is a bad token anywhere else.
//
// Two checkers share the stream:
// - the byte machine (`slow`): every byte through a state machine whose whole state lives in
//   globals, so a value may span the chunks it is fed in. It decides every question.
// - the block checker (`fast`), for whole lines of a JSON Lines stream, or a whole document given in
//   one piece: 64 bytes at a time it finds strings with SIMD masks (quotes, escapes, control bytes)
//   and walks only the tokens outside them. Anything unusual in a line (nesting deeper than 64, any
//   error) hands that line (or the document) to the byte machine, so the block checker only ever
//   says "valid". On the bench's log it takes about 100 ms per GiB less than the byte machine alone
//   (0.69 against 0.79 s, copying in included; best of 20 passes each, alternating in one process);
//   on the bench's 10,000 checkpoints (indented documents) it takes 20 ms against 32 (best of 10).

// The memory is the host's, shared (see src/migrate/json-syntax.ts): a worker thread may scan a
// chunk that another thread read into it. This instance's own area starts at `heapBase`: the
// input region the host copies into (prepare), then the container stack, which grows.
let heapBase: usize = 65536;
/** SIMD loads of the last block may read this far past the input. */
const PAD: usize = 64;

// States of the byte machine.
const LINE: i32 = 0; // start of a line: whitespace, a newline (a blank line) or a value
const VALUE: i32 = 1; // a value must start (whitespace first is fine)
const ARR_FIRST: i32 = 2; // after '[': a value or ']'
const OBJ_FIRST: i32 = 3; // after '{': a key or '}'
const KEY: i32 = 4; // after ',' in an object: a key
const COLON: i32 = 5; // after a key: ':'
const AFTER: i32 = 6; // after a value
const STR: i32 = 7; // in a string
const ESC: i32 = 8; // after a backslash in a string
const HEX: i32 = 9; // in the four hex digits of \u
const N_MINUS: i32 = 10;
const N_ZERO: i32 = 11;
const N_INT: i32 = 12;
const N_DOT: i32 = 13;
const N_FRAC: i32 = 14;
const N_E: i32 = 15;
const N_ESIGN: i32 = 16;
const N_EXP: i32 = 17;
const LIT: i32 = 18; // in true, false or null

const OBJ: u8 = 1;
const ARR: u8 = 2;

let state: i32 = LINE;
let depth: u32 = 0;
let lines: u32 = 0;
let bad: u32 = 0;
/** Lines, or documents, the block checker vouched for (the rest went through the byte machine). */
let vouchedLines: u32 = 0;
let strIsKey: bool = false;
/** One JSON document (a newline is whitespace) rather than JSON Lines (a newline ends a line). */
let doc: bool = false;
let hexLeft: i32 = 0;
let lit: usize = 0;
let inputCap: usize = 0;
let stackBase: usize = 65536 + PAD;
let stackCap: usize = 0;

// "true", "false", "null", each ended by a zero byte; `lit` points at the next expected byte.
const WORDS = memory.data<u8>([0x74, 0x72, 0x75, 0x65, 0, 0x66, 0x61, 0x6c, 0x73, 0x65, 0, 0x6e, 0x75, 0x6c, 0x6c, 0]);

function ensureMemory(bytes: usize): bool {
  const have = (<usize>memory.size()) << 16;
  if (bytes <= have) return true;
  return memory.grow(<i32>((bytes - have + 0xffff) >> 16)) >= 0;
}

/** A new stream: JSON Lines, or one document when `document` is 1. */
export function reset(document: i32): void {
  if (!tablesMade) makeTables();
  doc = document != 0;
  state = LINE;
  depth = 0;
  lines = 0;
  bad = 0;
  vouchedLines = 0;
}

export function vouched(): u32 {
  return vouchedLines;
}

/**
 * Moves this instance's own area to `base` (a multiple of 16), above memory the host keeps for
 * itself; before any other call.
 */
export function setHeapBase(base: usize): void {
  heapBase = base;
  stackBase = base + PAD;
}

/** Makes room for `len` input bytes at the returned address; 0 when memory cannot grow. */
export function prepare(len: usize): usize {
  if (len > inputCap) {
    const base = (heapBase + len + PAD + 15) & ~(<usize>15);
    if (!ensureMemory(base + stackCap)) return 0;
    memory.copy(base, stackBase, depth);
    stackBase = base;
    inputCap = len;
  }
  return heapBase;
}

function push(t: u8): bool {
  if (<usize>depth == stackCap) {
    const cap = stackCap ? stackCap << 1 : 4096;
    if (!ensureMemory(stackBase + cap)) return false;
    stackCap = cap;
  }
  store<u8>(stackBase + depth, t);
  depth++;
  return true;
}

@inline function isWs(c: u32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0d;
}

@inline function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

@inline function isHex(c: u32): bool {
  return c - 0x30 < 10 || (c | 0x20) - 0x61 < 6;
}

/**
 * Checks the `len` bytes at `at` (prepare's input region, or memory below heapBase with 64 bytes
 * readable after it), continuing the stream. Returns 0, or the 1-based number of the first bad
 * line (then every later call returns it too); -1 when memory ran out.
 */
export function scan(at: usize, len: usize): i32 {
  if (bad) return <i32>bad;
  let p = at;
  const end = p + len;
  if (doc) {
    // A document's first piece: if it holds the whole value, the block checker can vouch for it.
    if (state == LINE && depth == 0 && len > 0 && fast(p, end, true) == end) {
      vouchedLines++;
      state = AFTER;
      return 0;
    }
    return slow(p, end, end) ? 0 : failed();
  }
  // One past the last newline: the block checker takes whole lines only.
  let whole = end;
  while (whole > p && load<u8>(whole - 1) != 0x0a) whole--;
  while (p < end) {
    if (state == LINE && p < whole) {
      const q = fast(p, whole, false);
      if (q == whole) {
        p = q;
        continue;
      }
      // The block checker gave up on the line at q: the byte machine takes it from there to the
      // end of the block it stopped in, then hands back at the next line start.
      p = slow(q, end, bailEnd);
    } else {
      p = slow(p, end, p + 1);
    }
    if (!p) return failed();
  }
  return 0;
}

/** What scan returns when `slow` stopped: the bad line, or -1 when memory ran out. */
function failed(): i32 {
  return bad ? <i32>bad : -1;
}

/**
 * The byte machine over [p, end), from the current state. In a JSON Lines stream it stops at the
 * first line start at or after `stopAt`. Returns where it stopped, or 0 (`bad` set; out of memory
 * when not).
 */
function slow(p: usize, end: usize, stopAt: usize): usize {
  let st = state;
  const quote = i8x16.splat(0x22);
  const backslash = i8x16.splat(0x5c);
  const space = i8x16.splat(0x20);
  while (p < end) {
    const c = <u32>load<u8>(p);
    switch (st) {
      case STR: {
        for (;;) {
          if (p + 16 > end) {
            while (p < end) {
              const d = <u32>load<u8>(p);
              if (d == 0x22 || d == 0x5c || d < 0x20) break;
              p++;
            }
            break;
          }
          const v = v128.load(p);
          const m = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, quote), i8x16.eq(v, backslash)), i8x16.lt_u(v, space)));
          if (m) {
            p += <usize>ctz(m);
            break;
          }
          p += 16;
        }
        if (p == end) break;
        const d = <u32>load<u8>(p);
        p++;
        if (d == 0x22) st = strIsKey ? COLON : AFTER;
        else if (d == 0x5c) st = ESC;
        else return fail(st);
        break;
      }
      case AFTER: {
        if (isWs(c)) {
          p++;
        } else if (depth == 0) {
          if (c != 0x0a) return fail(st);
          p++;
          if (!doc) {
            lines++;
            st = LINE;
            if (p >= stopAt) {
              state = st;
              return p;
            }
          }
        } else {
          const top = load<u8>(stackBase + depth - 1);
          if (c == 0x2c) st = top == OBJ ? KEY : VALUE;
          else if ((c == 0x7d && top == OBJ) || (c == 0x5d && top == ARR)) depth--;
          else if (c != 0x0a || !doc) return fail(st);
          p++;
        }
        break;
      }
      case LINE: {
        if (isWs(c)) p++;
        else if (c == 0x0a) {
          p++;
          if (!doc) {
            lines++;
            if (p >= stopAt) {
              state = st;
              return p;
            }
          }
        } else st = VALUE;
        break;
      }
      case VALUE: {
        p++;
        if (isWs(c)) break;
        if (c == 0x22) {
          strIsKey = false;
          st = STR;
        } else if (c == 0x7b) {
          if (!push(OBJ)) return 0;
          st = OBJ_FIRST;
        } else if (c == 0x5b) {
          if (!push(ARR)) return 0;
          st = ARR_FIRST;
        } else if (c == 0x2d) st = N_MINUS;
        else if (c == 0x30) st = N_ZERO;
        else if (isDigit(c)) st = N_INT;
        else if (c == 0x74) {
          lit = WORDS + 1;
          st = LIT;
        } else if (c == 0x66) {
          lit = WORDS + 6;
          st = LIT;
        } else if (c == 0x6e) {
          lit = WORDS + 12;
          st = LIT;
        } else if (c != 0x0a || !doc) return fail(st);
        break;
      }
      case OBJ_FIRST:
      case KEY: {
        p++;
        if (isWs(c)) break;
        if (c == 0x22) {
          strIsKey = true;
          st = STR;
        } else if (c == 0x7d && st == OBJ_FIRST) {
          depth--;
          st = AFTER;
        } else if (c != 0x0a || !doc) return fail(st);
        break;
      }
      case ARR_FIRST: {
        if (isWs(c)) p++;
        else if (c == 0x5d) {
          depth--;
          st = AFTER;
          p++;
        } else st = VALUE;
        break;
      }
      case COLON: {
        p++;
        if (isWs(c)) break;
        if (c == 0x3a) st = VALUE;
        else if (c != 0x0a || !doc) return fail(st);
        break;
      }
      case ESC: {
        p++;
        if (c == 0x75) {
          hexLeft = 4;
          st = HEX;
        } else if (c == 0x22 || c == 0x5c || c == 0x2f || c == 0x62 || c == 0x66 || c == 0x6e || c == 0x72 || c == 0x74) st = STR;
        else return fail(st);
        break;
      }
      case HEX: {
        p++;
        if (!isHex(c)) return fail(st);
        if (--hexLeft == 0) st = STR;
        break;
      }
      case N_MINUS: {
        p++;
        if (c == 0x30) st = N_ZERO;
        else if (isDigit(c)) st = N_INT;
        else return fail(st);
        break;
      }
      case N_INT:
      case N_FRAC:
      case N_EXP: {
        if (isDigit(c)) p++;
        else if (c == 0x2e && st == N_INT) {
          st = N_DOT;
          p++;
        } else if ((c | 0x20) == 0x65 && st != N_EXP) {
          st = N_E;
          p++;
        } else st = AFTER;
        break;
      }
      case N_ZERO: {
        if (c == 0x2e) {
          st = N_DOT;
          p++;
        } else if ((c | 0x20) == 0x65) {
          st = N_E;
          p++;
        } else st = AFTER;
        break;
      }
      case N_DOT: {
        p++;
        if (!isDigit(c)) return fail(st);
        st = N_FRAC;
        break;
      }
      case N_E: {
        p++;
        if (c == 0x2b || c == 0x2d) st = N_ESIGN;
        else if (isDigit(c)) st = N_EXP;
        else return fail(st);
        break;
      }
      case N_ESIGN: {
        p++;
        if (!isDigit(c)) return fail(st);
        st = N_EXP;
        break;
      }
      case LIT: {
        p++;
        if (c != <u32>load<u8>(lit)) return fail(st);
        lit++;
        if (load<u8>(lit) == 0) st = AFTER;
        break;
      }
      default:
        return fail(st);
    }
  }
  state = st;
  return p;
}

function fail(st: i32): usize {
  state = st;
  bad = lines + 1;
  return 0;
}

/**
 * After the last chunk: 0, or the first bad line (1 for a bad document). An unfinished last line
 * must be blank or a whole value; a document must hold a value.
 */
export function finish(): i32 {
  if (bad) return <i32>bad;
  const st = state;
  if (st == LINE && !doc) return 0;
  if (depth == 0 && (st == AFTER || st == N_ZERO || st == N_INT || st == N_FRAC || st == N_EXP)) return 0;
  fail(st);
  return <i32>bad;
}

// ---- the block checker ------------------------------------------------------------------------

// Its states; a value may start in the first four.
const F_LINE: u8 = 0; // line start (a newline here is a blank line)
const F_VOBJ: u8 = 1; // after ':' in an object
const F_VARR: u8 = 2; // after ',' in an array
const F_AFIRST: u8 = 3; // after '[': a value or ']'
const F_OFIRST: u8 = 4; // after '{': a key or '}'
const F_KEY: u8 = 5; // after ',' in an object
const F_COLON: u8 = 6; // after a key
const F_ATOP: u8 = 7; // after a line's value: only its newline
const F_AOBJ: u8 = 8; // after a value in an object
const F_AARR: u8 = 9; // after a value in an array
const F_POP: u8 = 14; // a container closes: the state comes off the stack
const F_BAD: u8 = 15;

// Token classes. Up to T_ATOM the next state is all there is to it (numbers and literals are
// checked before the token walk).
const T_QUOTE: u8 = 0; // a string starts (the masks have checked its body)
const T_COMMA: u8 = 1;
const T_COLON: u8 = 2;
const T_ATOM: u8 = 3; // a number, true, false or null starts
const T_OPEN_OBJ: u8 = 4;
const T_OPEN_ARR: u8 = 5;
const T_CLOSE_OBJ: u8 = 6;
const T_CLOSE_ARR: u8 = 7;
const T_NEWLINE: u8 = 8;

/** Token class of each byte that starts a token. */
const CLASS = memory.data(256);
/**
 * The next state: nibble `state` of the 64-bit word for the token's class. The word is loaded by
 * class alone, so from token to token the state's dependency chain is a shift and a mask.
 */
const NEXT = memory.data(9 * 8, 8);
/** The state after a value that started in state s (s < 4). */
const AFTER_VALUE = memory.data<u8>([F_ATOP, F_AOBJ, F_AARR, F_AARR]);
/** Bytes that end a number or literal: JSON whitespace, structural characters, a quote. */
const ENDS_ATOM = memory.data(256);
const ATOM_ENDERS = memory.data<u8>([0x20, 0x09, 0x0d, 0x0a, 0x2c, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x22]);
/** Escapes that stand alone after a backslash (\u takes four hex digits more). */
const SIMPLE_ESCAPE = memory.data(256);
const SIMPLE_ESCAPES = memory.data<u8>([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);
/** Open containers, as the state to return to when each closes. Deeper lines go to the byte machine. */
const FAST_DEPTH: u32 = 64;
const FAST_STACK = memory.data(64);
let tablesMade = false;

function makeTables(): void {
  memory.fill(CLASS, T_ATOM, 256);
  store<u8>(CLASS + 0x22, T_QUOTE);
  store<u8>(CLASS + 0x2c, T_COMMA);
  store<u8>(CLASS + 0x3a, T_COLON);
  store<u8>(CLASS + 0x7b, T_OPEN_OBJ);
  store<u8>(CLASS + 0x5b, T_OPEN_ARR);
  store<u8>(CLASS + 0x7d, T_CLOSE_OBJ);
  store<u8>(CLASS + 0x5d, T_CLOSE_ARR);
  store<u8>(CLASS + 0x0a, T_NEWLINE);
  memory.fill(NEXT, 0xff, 9 * 8); // every nibble F_BAD
  for (let s: u8 = 0; s < 4; s++) {
    const after = load<u8>(AFTER_VALUE + s);
    setNext(s, T_QUOTE, after);
    setNext(s, T_ATOM, after);
    setNext(s, T_OPEN_OBJ, F_OFIRST);
    setNext(s, T_OPEN_ARR, F_AFIRST);
  }
  setNext(F_LINE, T_NEWLINE, F_LINE);
  setNext(F_AFIRST, T_CLOSE_ARR, F_POP);
  setNext(F_OFIRST, T_QUOTE, F_COLON);
  setNext(F_OFIRST, T_CLOSE_OBJ, F_POP);
  setNext(F_KEY, T_QUOTE, F_COLON);
  setNext(F_COLON, T_COLON, F_VOBJ);
  setNext(F_ATOP, T_NEWLINE, F_LINE);
  setNext(F_AOBJ, T_COMMA, F_KEY);
  setNext(F_AOBJ, T_CLOSE_OBJ, F_POP);
  setNext(F_AARR, T_COMMA, F_VARR);
  setNext(F_AARR, T_CLOSE_ARR, F_POP);
  for (let i: usize = 0; i < 11; i++) store<u8>(ENDS_ATOM + load<u8>(ATOM_ENDERS + i), 1);
  for (let i: usize = 0; i < 8; i++) store<u8>(SIMPLE_ESCAPE + load<u8>(SIMPLE_ESCAPES + i), 1);
  tablesMade = true;
}

function setNext(s: u8, t: u8, next: u8): void {
  const at = NEXT + (<usize>t << 3);
  const shift = <u64>s << 2;
  store<u64>(at, (load<u64>(at) & ~((<u64>15) << shift)) | ((<u64>next) << shift));
}

// Byte classes for the block checker, one bit each: a byte is in a class when the entries of both
// its low and its high nibble have the class's bit (i8x16.swizzle looks them up 16 bytes at once).
//   0x80 quote            low 2          high 2
//   0x40 backslash        low c          high 5
//   0x20 control byte     any low        high 0, 1
//   0x08 tab, return      low 9, d       high 0
//   0x04 space            low 0          high 2
//   0x02 , : newline      low a, c       high 0, 2, 3   (also form feed, * and <: never valid
//                                                        outside a string, so a token the checker
//                                                        refuses, and harmless inside one)
//   0x01 [ ] { }          low b, d       high 5, 7
const CLASS_BY_LOW = memory.data<u8>([0x24, 0x20, 0xa0, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x28, 0x22, 0x21, 0x62, 0x29, 0x20, 0x20], 16);
const CLASS_BY_HIGH = memory.data<u8>([0x2a, 0x20, 0x86, 0x02, 0x00, 0x41, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0], 16);
const NIBBLE = memory.data<u8>([15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15], 16);
const SPACE_BITS = memory.data<u8>([12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12], 16);
const OPERATOR_BITS = memory.data<u8>([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], 16);
/** Backslash and control byte. */
const RARE_BITS = memory.data<u8>([0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x60, 0x60], 16);
// In a document a newline is whitespace: low nibble a gains 0x08 (with high 0: only the newline),
// high nibble 0 loses 0x02 (the newline, and form feed, which then is a token the checker refuses).
const DOC_CLASS_BY_LOW = memory.data<u8>([0x24, 0x20, 0xa0, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x28, 0x2a, 0x21, 0x62, 0x29, 0x20, 0x20], 16);
const DOC_CLASS_BY_HIGH = memory.data<u8>([0x28, 0x20, 0x86, 0x02, 0x00, 0x41, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0], 16);

/** Each byte's class bits (see CLASS_BY_LOW). */
@inline function classify(v: v128, lowTable: v128, highTable: v128, nibble: v128): v128 {
  return v128.and(i8x16.swizzle(lowTable, v128.and(v, nibble)), i8x16.swizzle(highTable, v128.and(i16x8.shr_u(v, 4), nibble)));
}

/** Where the block checker stopped when it gave up: the end of that block. */
let bailEnd: usize = 0;

/** A 64-bit mask from the bitmasks of four 16-byte vectors. */
@inline function mask64(a: v128, b: v128, c: v128, d: v128): u64 {
  return (
    <u64>(<u32>i8x16.bitmask(a)) |
    (<u64>(<u32>i8x16.bitmask(b)) << 16) |
    (<u64>(<u32>i8x16.bitmask(c)) << 32) |
    (<u64>(<u32>i8x16.bitmask(d)) << 48)
  );
}

/** Bit i set when an odd number of bits 0..i of x are set: inside a string, given its quotes. */
@inline function prefixXor(x: u64): u64 {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

/** A number, true, false or null starting at p, ended by a byte of ENDS_ATOM. */
function atomOk(p: usize): bool {
  const c = <u32>load<u8>(p);
  let q = p;
  if (c == 0x6e) {
    if (load<u32>(p) != 0x6c6c756e) return false; // null
    q += 4;
  } else if (c == 0x74) {
    if (load<u32>(p) != 0x65757274) return false; // true
    q += 4;
  } else if (c == 0x66) {
    if (load<u32>(p + 1) != 0x65736c61) return false; // (f)alse
    q += 5;
  } else {
    if (c == 0x2d) q++;
    let d = <u32>load<u8>(q);
    if (d == 0x30) q++;
    else if (d - 0x31 < 9) {
      do q++;
      while (isDigit(load<u8>(q)));
    } else return false;
    if (load<u8>(q) == 0x2e) {
      q++;
      if (!isDigit(load<u8>(q))) return false;
      do q++;
      while (isDigit(load<u8>(q)));
    }
    if ((load<u8>(q) | 0x20) == 0x65) {
      q++;
      d = load<u8>(q);
      if (d == 0x2b || d == 0x2d) q++;
      if (!isDigit(load<u8>(q))) return false;
      do q++;
      while (isDigit(load<u8>(q)));
    }
  }
  return load<u8>(ENDS_ATOM + load<u8>(q)) != 0;
}

/**
 * Checks the whole lines in [p, end) (end is one past a newline; the stream is at a line start).
 * Returns end when every line is valid; else the start of the first line it could not vouch for,
 * with `bailEnd` set. Counts the lines it vouches for.
 *
 * With `document`, [p, end) is one JSON text instead (a newline is whitespace): returns end when
 * it is one whole value, else p. The bytes past end are not the document's (see scan), and the
 * checks below read a little past a token: a document must end in a byte no token reads past
 * (a closing bracket, brace or quote, or whitespace), and not inside a string.
 */
function fast(p: usize, end: usize, document: bool): usize {
  if (document) {
    const last = <u32>load<u8>(end - 1);
    if (!(last == 0x7d || last == 0x5d || last == 0x22 || last == 0x0a || isWs(last))) return p;
  }
  // Loaded, not written as constants: V8 would build each constant anew at every use.
  const lowTable = v128.load(document ? DOC_CLASS_BY_LOW : CLASS_BY_LOW);
  const highTable = v128.load(document ? DOC_CLASS_BY_HIGH : CLASS_BY_HIGH);
  const nibble = v128.load(NIBBLE);
  const spaceBits = v128.load(SPACE_BITS);
  const operatorBits = v128.load(OPERATOR_BITS);
  const rareBits = v128.load(RARE_BITS);
  const zero = i8x16.splat(0);
  let st: u32 = F_LINE;
  let d: u32 = 0;
  let lineStart = p;
  // Carried from block to block: inside a string (all ones), the next byte escaped, inside an atom.
  let inString: u64 = 0;
  let escapedCarry: u64 = 0;
  let atomCarry: u64 = 0;
  for (let b = p; b < end; b += 64) {
    const k0 = classify(v128.load(b), lowTable, highTable, nibble);
    const k1 = classify(v128.load(b, 16), lowTable, highTable, nibble);
    const k2 = classify(v128.load(b, 32), lowTable, highTable, nibble);
    const k3 = classify(v128.load(b, 48), lowTable, highTable, nibble);
    // i8x16.bitmask takes each byte's top bit: the quote bit, then the others shifted up to it.
    const quotes = mask64(k0, k1, k2, k3);
    // Backslashes and control bytes are rare (a log line's newline is in one block of six): their
    // masks only for a block that has any.
    const rare = v128.any_true(v128.and(v128.or(v128.or(k0, k1), v128.or(k2, k3)), rareBits));
    const backslashes: u64 = rare ? mask64(i16x8.shl(k0, 1), i16x8.shl(k1, 1), i16x8.shl(k2, 1), i16x8.shl(k3, 1)) : 0;
    const controls: u64 = rare ? mask64(i16x8.shl(k0, 2), i16x8.shl(k1, 2), i16x8.shl(k2, 2), i16x8.shl(k3, 2)) : 0;
    const spaces = ~mask64(
      i8x16.eq(v128.and(k0, spaceBits), zero),
      i8x16.eq(v128.and(k1, spaceBits), zero),
      i8x16.eq(v128.and(k2, spaceBits), zero),
      i8x16.eq(v128.and(k3, spaceBits), zero),
    );
    const operators = ~mask64(
      i8x16.eq(v128.and(k0, operatorBits), zero),
      i8x16.eq(v128.and(k1, operatorBits), zero),
      i8x16.eq(v128.and(k2, operatorBits), zero),
      i8x16.eq(v128.and(k3, operatorBits), zero),
    );
    const blockEnd = b + 64 < end ? b + 64 : end;
    const valid: u64 = b + 64 <= end ? ~(<u64>0) : ((<u64>1) << (<u64>(end - b))) - 1;

    // Escaped bytes: those after a backslash that is not itself escaped. Rare in logs, so in order.
    let escaped = escapedCarry;
    escapedCarry = 0;
    let rest = backslashes;
    while (rest) {
      const i = ctz(rest);
      rest &= rest - 1;
      if (!((escaped >> i) & 1)) {
        if (i == 63) escapedCarry = 1;
        else escaped |= (<u64>1) << (i + 1);
      }
    }
    // Each escaped byte must be a JSON escape; \u takes four hex digits (read on past the block:
    // the line's newline stops a string that ends early).
    let esc = escaped & valid;
    while (esc) {
      const at = b + <usize>ctz(esc);
      esc &= esc - 1;
      const e = load<u8>(at);
      if (e == 0x75 ? !(isHex(load<u8>(at + 1)) && isHex(load<u8>(at + 2)) && isHex(load<u8>(at + 3)) && isHex(load<u8>(at + 4))) : !load<u8>(SIMPLE_ESCAPE + e)) {
        bailEnd = blockEnd;
        return lineStart;
      }
    }
    const realQuotes = quotes & ~escaped;
    const inside = prefixXor(realQuotes) ^ inString; // each string's opening quote and body
    inString = <u64>(<i64>inside >> 63);
    // A control byte in a string (a newline among them: a line ends outside every string).
    if (controls & inside & valid) {
      bailEnd = blockEnd;
      return lineStart;
    }
    const outside = ~(inside | realQuotes);
    const atoms = outside & ~(spaces | operators);
    const atomStarts = atoms & ~((atoms << 1) | atomCarry);
    atomCarry = atoms >> 63;
    let tokens = ((operators & outside) | (realQuotes & inside) | atomStarts) & valid;
    // Numbers and literals first, on their own: the token walk then branches only on brackets and
    // line ends (4% faster on the bench's log).
    let atomsLeft = atomStarts & valid;
    while (atomsLeft) {
      const at = b + <usize>ctz(atomsLeft);
      atomsLeft &= atomsLeft - 1;
      if (!atomOk(at)) {
        bailEnd = blockEnd;
        return lineStart;
      }
    }
    if (document && b + 64 >= end && (inside >> <u64>(end - 1 - b)) & 1) return p; // ends inside a string

    while (tokens) {
      const at = b + <usize>ctz(tokens);
      tokens &= tokens - 1;
      const t: u32 = load<u8>(CLASS + load<u8>(at));
      let next = <u32>(load<u64>(NEXT + (<usize>t << 3)) >> (<u64>st << 2)) & 15;
      if (next == F_BAD) {
        bailEnd = blockEnd;
        return lineStart;
      }
      if (t > T_ATOM) {
        if (t <= T_OPEN_ARR) {
          if (d == FAST_DEPTH) {
            bailEnd = blockEnd;
            return lineStart;
          }
          store<u8>(FAST_STACK + d, load<u8>(AFTER_VALUE + st));
          d++;
        } else if (t <= T_CLOSE_ARR) {
          d--;
          next = load<u8>(FAST_STACK + d);
        } else {
          lines++;
          vouchedLines++;
          lineStart = at + 1;
        }
      }
      st = next;
    }
  }
  // A document: one whole value (no newline tokens: its newlines are whitespace).
  if (document && (st != F_ATOP || d != 0)) return p;
  return end;
}
