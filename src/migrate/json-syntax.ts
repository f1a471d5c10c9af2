// JSON syntax checked straight on the bytes, allocating nothing. The migration preflight must show
// that every line of a legacy log parses; JSON.parse of every line of a 1 GiB log took ~7.6 s
// here, almost all of it building objects the check then throws away.
//
// Accepts exactly what JSON.parse accepts of the bytes' UTF-8 decoding: invalid UTF-8 inside a
// string decodes to U+FFFD, which JSON allows, and is a bad token anywhere else.

/**
 * The checks, made by a function that uses nothing from outside itself: its source text also runs
 * in a worker thread (lines-worker.ts), so keep every helper inside it.
 */
export function jsonSyntax() {
  const OBJECT = 1;
  const ARRAY = 2;

  /** Open containers of the value being checked; grows for deeply nested input, reused between calls. */
  let stack = new Uint8Array(64);

  /** In line mode a newline ends the line instead of being whitespace. */
  let newlineIsSpace = true;

  function isWs(c: number): boolean {
    return c === 0x20 || c === 0x09 || c === 0x0d || (c === 0x0a && newlineIsSpace);
  }

  function skipWs(b: Uint8Array, i: number, end: number): number {
    while (i < end && isWs(b[i]!)) i++;
    return i;
  }

  function isHex(c: number): boolean {
    return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
  }

  /** `b[i]` is the opening quote; returns the index after the closing quote, or -1. */
  function skipString(b: Uint8Array, i: number, end: number): number {
    i++;
    while (i < end) {
      // Bytes that stand for themselves, the common case, in a tight loop: not a quote, a
      // backslash or a control byte. (Faster than a lookup table, measured.)
      for (let c = b[i]!; i < end && (c > 0x5c || (c >= 0x23 && c !== 0x5c) || c === 0x20 || c === 0x21); c = b[++i]!);
      if (i >= end) return -1;
      const c = b[i]!;
      if (c === 0x22) return i + 1;
      if (c === 0x5c) {
        if (i + 1 >= end) return -1;
        const e = b[i + 1]!;
        if (e === 0x75) {
          if (i + 5 >= end || !isHex(b[i + 2]!) || !isHex(b[i + 3]!) || !isHex(b[i + 4]!) || !isHex(b[i + 5]!)) return -1;
          i += 6;
        } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          i += 2;
        } else return -1;
      } else return -1; // a control byte: JSON wants it escaped
    }
    return -1;
  }

  function isDigit(c: number | undefined): boolean {
    return c !== undefined && c >= 0x30 && c <= 0x39;
  }

  /** `b[i]` is '-' or a digit; returns the index after the number, or -1. */
  function skipNumber(b: Uint8Array, i: number, end: number): number {
    if (b[i] === 0x2d) i++;
    if (i >= end) return -1;
    if (b[i] === 0x30) i++;
    else if (isDigit(b[i])) while (i < end && isDigit(b[i])) i++;
    else return -1;
    if (i < end && b[i] === 0x2e) {
      i++;
      if (i >= end || !isDigit(b[i])) return -1;
      while (i < end && isDigit(b[i])) i++;
    }
    if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
      i++;
      if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
      if (i >= end || !isDigit(b[i])) return -1;
      while (i < end && isDigit(b[i])) i++;
    }
    return i;
  }

  function skipWord(b: Uint8Array, i: number, end: number, word: readonly number[]): number {
    if (i + word.length > end) return -1;
    for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return -1;
    return i + word.length;
  }

  const TRUE = [0x74, 0x72, 0x75, 0x65];
  const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
  const NULL = [0x6e, 0x75, 0x6c, 0x6c];

  /** `b[i]` should open an object key: returns the index after `"key" :` and its whitespace, or -1. */
  function skipKey(b: Uint8Array, i: number, end: number): number {
    if (i >= end || b[i] !== 0x22) return -1;
    i = skipWs(b, skipString(b, i, end), end);
    if (i < 0 || i >= end || b[i] !== 0x3a) return -1;
    return skipWs(b, i + 1, end);
  }

  /** `b[i]` starts a value (no whitespace first): returns the index after it, or -1. */
  function skipValue(b: Uint8Array, i: number, end: number): number {
    let depth = 0;
    value: for (;;) {
      if (i >= end) return -1;
      const c = b[i]!;
      if (c === 0x22) i = skipString(b, i, end);
      else if (c === 0x7b || c === 0x5b) {
        i = skipWs(b, i + 1, end);
        if (i < end && b[i] === (c === 0x7b ? 0x7d : 0x5d)) i++;
        else {
          if (depth === stack.length) {
            const grown = new Uint8Array(stack.length * 2);
            grown.set(stack);
            stack = grown;
          }
          stack[depth++] = c === 0x7b ? OBJECT : ARRAY;
          if (c === 0x7b && (i = skipKey(b, i, end)) < 0) return -1;
          continue value;
        }
      } else if (c === 0x2d || isDigit(c)) i = skipNumber(b, i, end);
      else if (c === 0x74) i = skipWord(b, i, end, TRUE);
      else if (c === 0x66) i = skipWord(b, i, end, FALSE);
      else if (c === 0x6e) i = skipWord(b, i, end, NULL);
      else return -1;
      if (i < 0) return -1;
      // After a value: close containers, or a comma and the next member.
      for (;;) {
        if (depth === 0) return i;
        i = skipWs(b, i, end);
        if (i >= end) return -1;
        const d = b[i]!;
        const top = stack[depth - 1];
        if (d === 0x2c) {
          i = skipWs(b, i + 1, end);
          if (top === OBJECT && (i = skipKey(b, i, end)) < 0) return -1;
          continue value;
        }
        if (d !== (top === OBJECT ? 0x7d : 0x5d)) return -1;
        depth--;
        i++;
      }
    }
  }

  /** True when bytes [start, end) are one JSON value with optional whitespace around it. */
  function isJsonText(b: Uint8Array, start: number, end: number): boolean {
    newlineIsSpace = true;
    const i = skipValue(b, skipWs(b, start, end), end);
    return i >= 0 && skipWs(b, i, end) === end;
  }

  /** True when bytes [start, end) hold only JSON whitespace: a blank line, which readers skip. */
  function isBlank(b: Uint8Array, start: number, end: number): boolean {
    newlineIsSpace = true;
    return skipWs(b, start, end) === end;
  }

  /**
   * Checks the lines in [start, end), which ends with a newline: each blank, or one JSON value.
   * Returns the number of lines, or -(the 1-based number of the first bad line). One pass over
   * the bytes, with no per-line search for the newline.
   */
  function scanLines(b: Uint8Array, start: number, end: number): number {
    newlineIsSpace = false;
    let lines = 0;
    for (let i = start; i < end; ) {
      i = skipWs(b, i, end);
      if (b[i] !== 0x0a) {
        i = skipValue(b, i, end);
        if (i >= 0) i = skipWs(b, i, end);
        if (i < 0 || b[i] !== 0x0a) return -(lines + 1);
      }
      lines++;
      i++;
    }
    return lines;
  }

  /**
   * Finds the first line of a JSON Lines stream that is neither blank nor one JSON value, fed
   * chunk by chunk: it keeps only the unfinished last line, so a 1 GiB log costs no more memory
   * than a small one. Lines are checked on their bytes, never decoded.
   */
  function linesCheck() {
    let lines = 0;
    /** 1-based number of the first bad line, once one is seen. */
    let badLine: number | null = null;
    /** The unfinished line so far, as copies (the caller reuses its chunk buffers). */
    let partial: Buffer[] = [];
    const count = (n: number): boolean => {
      if (n >= 0) lines += n;
      else badLine = lines - n;
      return n >= 0;
    };
    return {
      feed(chunk: Buffer): void {
        if (badLine !== null) return;
        const last = chunk.lastIndexOf(0x0a);
        if (last < 0) {
          partial.push(Buffer.from(chunk));
          return;
        }
        let start = 0;
        if (partial.length) {
          const nl = chunk.indexOf(0x0a);
          const line = Buffer.concat([...partial, chunk.subarray(0, nl + 1)]);
          partial = [];
          if (!count(scanLines(line, 0, line.length))) return;
          start = nl + 1;
        }
        if (!count(scanLines(chunk, start, last + 1))) return;
        if (last + 1 < chunk.length) partial.push(Buffer.from(chunk.subarray(last + 1)));
      },
      /** After the last chunk (checks a last line without a newline): the first bad line, or null. */
      end(): number | null {
        if (badLine === null && partial.length) {
          const line = Buffer.concat([...partial, Buffer.from('\n')]);
          partial = [];
          count(scanLines(line, 0, line.length));
        }
        return badLine;
      },
      bad: (): number | null => badLine,
    };
  }

  return { isJsonText, isBlank, linesCheck };
}

export type LinesCheck = ReturnType<ReturnType<typeof jsonSyntax>['linesCheck']>;
export const { isJsonText, isBlank, linesCheck } = jsonSyntax();
