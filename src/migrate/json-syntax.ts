// JSON syntax checked straight on the bytes, allocating nothing. The migration preflight must show
// that every line of a legacy log parses: JSON.parse of every line of a 1 GiB log took ~7.6 s here,
// almost all of it building objects the check then throws away. The check is WebAssembly
// (src/wasm/json-syntax.ts): ~0.55 s per GiB of the bench's log scanned where it lies, where the
// JavaScript byte scanner it replaced took ~2.7 s (best of 15 passes over 64 MiB, same machine).
//
// Accepts exactly what JSON.parse accepts of the bytes' UTF-8 decoding: invalid UTF-8 inside a
// string decodes to U+FFFD, which JSON allows, and is a bad token anywhere else.
import { JSON_SYNTAX_MAX_PAGES, JSON_SYNTAX_WASM } from './json-syntax-wasm.ts';

/** The parts of the WebAssembly API used here (TypeScript declares it only in its DOM library). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => SyntaxModule;
  Instance: new (module: SyntaxModule, imports: { env: { memory: SyntaxMemory } }) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => SyntaxMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** A compiled WebAssembly.Module: it can be handed to a worker thread as it is. */
export type SyntaxModule = object & { readonly __brand?: 'SyntaxModule' };

/** A shared WebAssembly.Memory, which the module imports: it can be handed to a worker thread. */
export interface SyntaxMemory {
  readonly buffer: SharedArrayBuffer;
}

/** What src/wasm/json-syntax.ts exports. */
export interface SyntaxExports {
  setHeapBase(base: number): void;
  reset(document: number): void;
  prepare(len: number): number;
  scan(at: number, len: number): number;
  finish(): number;
  /** Lines (or the document) the block checker vouched for since reset (the rest went through the byte machine). */
  vouched(): number;
}

let compiled: SyntaxModule | undefined;

/** The compiled module (a worker thread instantiates the same one). */
export function syntaxModule(): SyntaxModule {
  return (compiled ??= new wasm.Module(Buffer.from(JSON_SYNTAX_WASM, 'base64')));
}

/** A memory for one instance, at least `bytes` long at first. */
export function syntaxMemory(bytes = 0): SyntaxMemory {
  return new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)), maximum: JSON_SYNTAX_MAX_PAGES, shared: true });
}

/**
 * An instance over `memory`. With `heapBase`, the memory below it is the caller's (chunks that
 * the instance scans where they lie: see chunk-worker.ts) and the instance's own area starts there.
 */
export function syntaxInstance(memory = syntaxMemory(), heapBase?: number): SyntaxExports {
  const ex = new wasm.Instance(syntaxModule(), { env: { memory } }).exports as SyntaxExports;
  if (heapBase !== undefined) ex.setHeapBase(heapBase);
  return ex;
}

/** Bytes are copied in in pieces of at most this much, so an instance's memory stays small. */
const PIECE = 1 << 20;

/** Copies b[start, end) into the instance and scans it on from where it stopped: 0, or the first bad line. */
function scanCopy(ex: SyntaxExports, memory: SyntaxMemory, b: Uint8Array, start: number, end: number): number {
  for (let at = start; at < end; at += PIECE) {
    const n = Math.min(PIECE, end - at);
    const ptr = ex.prepare(n);
    if (ptr !== 0) new Uint8Array(memory.buffer, ptr, n).set(b.subarray(at, at + n));
    const r = ptr === 0 ? -1 : ex.scan(ptr, n);
    if (r < 0) throw new Error('the JSON check ran out of memory');
    if (r > 0) return r;
  }
  return 0;
}

/** For whole documents, one after another: each check is synchronous, so one instance serves all. */
let documents: { ex: SyntaxExports; memory: SyntaxMemory } | undefined;

/** True when bytes [start, end) are one JSON value with optional whitespace around it. */
export function isJsonText(b: Uint8Array, start: number, end: number): boolean {
  if (!documents) {
    const memory = syntaxMemory();
    documents = { ex: syntaxInstance(memory), memory };
  }
  const { ex, memory } = documents;
  ex.reset(1);
  return scanCopy(ex, memory, b, start, end) === 0 && ex.finish() === 0;
}

/**
 * Finds the first line of a JSON Lines stream that is neither blank nor one JSON value, fed
 * chunk by chunk (a line may span chunks), in an instance of its own: streams may interleave.
 * Memory stays the same whatever the size of the file or of a line (unless lines nest deeply).
 */
export function linesCheck() {
  const memory = syntaxMemory();
  const ex = syntaxInstance(memory);
  ex.reset(0);
  /** 1-based number of the first bad line, once one is seen. */
  let badLine: number | null = null;
  return {
    feed(chunk: Uint8Array): void {
      if (badLine !== null) return;
      const r = scanCopy(ex, memory, chunk, 0, chunk.length);
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
