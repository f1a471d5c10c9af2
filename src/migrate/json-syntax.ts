// JSON syntax checked straight on the bytes, allocating nothing. The migration preflight must show
// that every line of a legacy log parses: JSON.parse of every line of a 1 GiB log took ~7.6 s here,
// almost all of it building objects the check then throws away. The check is WebAssembly
// (src/wasm/json-syntax.ts): ~0.66 s per GiB of the bench's log, where the JavaScript byte scanner
// it replaced took ~2.7 s (best of 15 passes over 64 MiB, same machine).
//
// Accepts exactly what JSON.parse accepts of the bytes' UTF-8 decoding: invalid UTF-8 inside a
// string decodes to U+FFFD, which JSON allows, and is a bad token anywhere else.
import { JSON_SYNTAX_WASM } from './json-syntax-wasm.ts';

/** The parts of the WebAssembly API used here (TypeScript declares it only in its DOM library). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => SyntaxModule;
  Instance: new (module: SyntaxModule) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** A compiled WebAssembly.Module: it can be handed to a worker thread as it is. */
export type SyntaxModule = object & { readonly __brand?: 'SyntaxModule' };

/** What src/wasm/json-syntax.ts exports. */
export interface SyntaxExports {
  memory: { buffer: ArrayBuffer };
  reset(document: number): void;
  prepare(len: number): number;
  scan(len: number): number;
  finish(): number;
  /** Lines the block checker vouched for since reset (the rest went through the byte machine). */
  vouched(): number;
}

let compiled: SyntaxModule | undefined;

/** The compiled module (a worker thread instantiates the same one). */
export function syntaxModule(): SyntaxModule {
  return (compiled ??= new wasm.Module(Buffer.from(JSON_SYNTAX_WASM, 'base64')));
}

/**
 * The checks, over instances that `instantiate` makes. Uses nothing from outside itself: its source
 * text also runs in a worker thread (chunk-worker.ts).
 */
export function syntaxChecks(instantiate: () => SyntaxExports) {
  /** Bytes go in in pieces of at most this much, so an instance's memory stays small whatever the file. */
  const PIECE = 1 << 20;

  /** Scans b[start, end) on from where the instance stopped: 0, or the first bad line. */
  function scan(ex: SyntaxExports, b: Uint8Array, start: number, end: number): number {
    for (let at = start; at < end; at += PIECE) {
      const n = Math.min(PIECE, end - at);
      const ptr = ex.prepare(n);
      if (ptr !== 0) new Uint8Array(ex.memory.buffer, ptr, n).set(b.subarray(at, at + n));
      const r = ptr === 0 ? -1 : ex.scan(n);
      if (r < 0) throw new Error('the JSON check ran out of memory');
      if (r > 0) return r;
    }
    return 0;
  }

  /** For whole documents, one after another: each check is synchronous, so one instance serves all. */
  let shared: SyntaxExports | undefined;

  /** True when bytes [start, end) are one JSON value with optional whitespace around it. */
  function isJsonText(b: Uint8Array, start: number, end: number): boolean {
    const ex = (shared ??= instantiate());
    ex.reset(1);
    return scan(ex, b, start, end) === 0 && ex.finish() === 0;
  }

  /**
   * Finds the first line of a JSON Lines stream that is neither blank nor one JSON value, fed
   * chunk by chunk (a line may span chunks), in an instance of its own: streams may interleave.
   * Memory stays the same whatever the size of the file or of a line.
   */
  function linesCheck() {
    const ex = instantiate();
    ex.reset(0);
    /** 1-based number of the first bad line, once one is seen. */
    let badLine: number | null = null;
    return {
      feed(chunk: Uint8Array): void {
        if (badLine !== null) return;
        const r = scan(ex, chunk, 0, chunk.length);
        if (r > 0) badLine = r;
      },
      /** After the last chunk (checks a last line without a newline): the first bad line, or null. */
      end(): number | null {
        if (badLine === null) {
          const r = ex.finish();
          if (r > 0) badLine = r;
        }
        return badLine;
      },
    };
  }

  return { isJsonText, linesCheck };
}

export type LinesCheck = ReturnType<ReturnType<typeof syntaxChecks>['linesCheck']>;
/** A fresh instance of the module. */
export function syntaxInstance(): SyntaxExports {
  return new wasm.Instance(syntaxModule()).exports as SyntaxExports;
}

export const { isJsonText, linesCheck } = syntaxChecks(syntaxInstance);
