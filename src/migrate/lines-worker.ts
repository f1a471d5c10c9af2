// Checks JSON Lines in a worker thread. The line check is the largest CPU cost of migrating a big
// log (~1.4 s per GiB); in a worker it runs on the second core while the main thread hashes the
// chunks and compares each with its copy read back (the libuv pool reads and writes). Chunks are
// never copied: they live in a SharedArrayBuffer both threads see, and the copy reuses a chunk only
// after the worker has answered for it.
import { Worker } from 'node:worker_threads';
import { jsonSyntax } from './json-syntax.ts';

// jsonSyntax uses nothing from outside itself, so its source text runs as it is in the worker;
// the bundle stays one file.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const syntax = (${jsonSyntax.toString()})();
const shared = Buffer.from(workerData);
let check = syntax.linesCheck();
parentPort.on('message', (m) => {
  if (m === 'reset') {
    check = syntax.linesCheck();
    parentPort.postMessage(null);
  } else if (m === 'end') parentPort.postMessage(check.end());
  else {
    check.feed(shared.subarray(m.offset, m.offset + m.length));
    parentPort.postMessage(null);
  }
});
`;

export interface LinesStream {
  /** Checks one chunk, which must lie in the shared buffer; resolves once the worker is done with it. */
  feed(chunk: Buffer): Promise<void>;
  /** After the last chunk: the first bad line (1-based), or null. */
  end(): Promise<number | null>;
}

export class LinesWorker {
  private readonly worker: Worker;
  /** Answers come back in the order the messages went out. */
  private readonly waiting: { resolve: (v: number | null) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;

  constructor(private readonly shared: SharedArrayBuffer) {
    this.worker = new Worker(SOURCE, { eval: true, workerData: shared });
    this.worker.on('message', (v: number | null) => this.waiting.shift()?.resolve(v));
    const fail = (err: Error) => {
      this.failure = err;
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the JSON Lines check stopped (exit ${code})`)));
  }

  private ask(message: unknown): Promise<number | null> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(message);
    });
  }

  /** A check of a new file: call feed for every chunk in order, then end. */
  stream(): LinesStream {
    // A failure shows on the next feed or end.
    this.ask('reset').catch(() => undefined);
    return {
      feed: async (chunk) => {
        if (chunk.buffer !== this.shared) throw new Error('LinesWorker: the chunk is not in the shared buffer');
        await this.ask({ offset: chunk.byteOffset, length: chunk.length });
      },
      end: () => this.ask('end'),
    };
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
