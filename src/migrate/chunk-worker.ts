// Work on a big file's chunks in a worker thread: the JSON Lines check (~0.7 s per GiB) or the
// sha256 (~0.8 s per GiB). Each is the largest CPU cost of migrating a big log after the copy
// itself; in workers they run beside each other and beside the main thread, which copies the small
// files and compares each chunk with its copy read back (the libuv pool reads and writes).
//
// Chunks are never copied between threads. They lie in a shared WebAssembly memory (ChunkArea):
// the main thread reads them into it, the hash worker reads them there, and the line check's
// instance scans them where they are, as its own memory. The copy reuses a chunk only after the
// workers have answered for it.
import { Worker } from 'node:worker_threads';
import { syntaxMemory, syntaxModule, type SyntaxMemory } from './json-syntax.ts';

/** The memory the chunks lie in, the buffer they were cut from, and where the line check's own area starts. */
export interface ChunkArea {
  memory: SyntaxMemory;
  buffer: SharedArrayBuffer;
  /** Where the line check's instance keeps its own data; the chunks lie below (the module's static data below 64 KiB). */
  heapBase: number;
}

/** A shared memory holding `bytes` of chunks from 64 KiB on (below: the module's static data). */
export function chunkArea(bytes: number): ChunkArea & { at: number } {
  const at = 65536;
  // 64 bytes more: the line check reads up to one SIMD block past a chunk.
  const heapBase = (at + bytes + 64 + 15) & ~15;
  const memory = syntaxMemory(heapBase);
  return { memory, buffer: memory.buffer, heapBase, at };
}

// Plain JavaScript in the worker (the bundle stays one file); the module is compiled once, here.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let start;
if (workerData.job === 'lines') {
  const ex = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } }).exports;
  ex.setHeapBase(workerData.heapBase);
  start = () => {
    ex.reset(0);
    let bad = null;
    return {
      feed: (offset, length) => {
        if (bad !== null) return;
        const r = ex.scan(offset, length);
        if (r < 0) throw new Error('the JSON check ran out of memory');
        if (r > 0) bad = r;
      },
      end: () => {
        if (bad === null) {
          const r = ex.finish();
          if (r > 0) bad = r;
        }
        return bad;
      },
    };
  };
} else {
  const { createHash } = require('node:crypto');
  const chunks = Buffer.from(workerData.memory.buffer);
  start = () => {
    const hash = createHash('sha256');
    return { feed: (offset, length) => hash.update(chunks.subarray(offset, offset + length)), end: () => hash.digest('hex') };
  };
}
let stream = start();
parentPort.on('message', (m) => {
  if (m === 'reset') {
    stream = start();
    parentPort.postMessage(null);
  } else if (m === 'end') parentPort.postMessage(stream.end());
  else {
    stream.feed(m.offset, m.length);
    parentPort.postMessage(null);
  }
});
`;

/** What each job answers at the end of a file: the first bad line (1-based) or null; the hex sha256. */
interface JobResult {
  lines: number | null;
  sha256: string;
}

export interface ChunkStream<R> {
  /** Hands over one chunk, which must lie in the area; resolves once the worker is done with it. */
  feed(chunk: Buffer): Promise<void>;
  /** After the last chunk: the job's result for the file. */
  end(): Promise<R>;
}

export class ChunkWorker<J extends keyof JobResult> {
  private readonly worker: Worker;
  /** Answers come back in the order the messages went out. */
  private readonly waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;

  constructor(
    private readonly area: ChunkArea,
    job: J,
  ) {
    const workerData = { job, memory: area.memory, heapBase: area.heapBase, module: job === 'lines' ? syntaxModule() : undefined };
    this.worker = new Worker(SOURCE, { eval: true, workerData });
    this.worker.on('message', (v: unknown) => this.waiting.shift()?.resolve(v));
    const fail = (err: Error) => {
      this.failure = err;
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the ${job} worker stopped (exit ${code})`)));
  }

  private ask(message: unknown): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(message);
    });
  }

  /** The job over a new file: call feed for every chunk in order, then end. */
  stream(): ChunkStream<JobResult[J]> {
    // A failure shows on the next feed or end.
    this.ask('reset').catch(() => undefined);
    return {
      feed: async (chunk) => {
        if (chunk.buffer !== this.area.buffer || chunk.byteOffset + chunk.length > this.area.heapBase) {
          throw new Error('ChunkWorker: the chunk is not in the chunk area');
        }
        await this.ask({ offset: chunk.byteOffset, length: chunk.length });
      },
      end: () => this.ask('end') as Promise<JobResult[J]>,
    };
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
