// Work on a big file's chunks in a worker thread: the JSON Lines check (~0.7 s per GiB) or the
// sha256 (~0.8 s per GiB). Each is the largest CPU cost of migrating a big log after the copy
// itself; in workers they run beside each other and beside the main thread, which copies the small
// files and compares each chunk with its copy read back (the libuv pool reads and writes). Chunks
// are never copied between threads: they live in a SharedArrayBuffer every thread sees, and the copy
// reuses a chunk only after the workers have answered for it.
import { Worker } from 'node:worker_threads';
import { syntaxChecks, syntaxModule } from './json-syntax.ts';

// syntaxChecks uses nothing from outside itself, so its source text runs as it is in the worker,
// over the module compiled here; the bundle stays one file.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const shared = Buffer.from(workerData.shared);
let start;
if (workerData.job === 'lines') {
  const syntax = (${syntaxChecks.toString()})(() => new WebAssembly.Instance(workerData.module).exports);
  start = () => {
    const check = syntax.linesCheck();
    return { feed: (b) => check.feed(b), end: () => check.end() };
  };
} else {
  const { createHash } = require('node:crypto');
  start = () => {
    const hash = createHash('sha256');
    return { feed: (b) => hash.update(b), end: () => hash.digest('hex') };
  };
}
let stream = start();
parentPort.on('message', (m) => {
  if (m === 'reset') {
    stream = start();
    parentPort.postMessage(null);
  } else if (m === 'end') parentPort.postMessage(stream.end());
  else {
    stream.feed(shared.subarray(m.offset, m.offset + m.length));
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
  /** Hands over one chunk, which must lie in the shared buffer; resolves once the worker is done with it. */
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
    private readonly shared: SharedArrayBuffer,
    job: J,
  ) {
    const module = job === 'lines' ? syntaxModule() : undefined;
    this.worker = new Worker(SOURCE, { eval: true, workerData: { shared, job, module } });
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
        if (chunk.buffer !== this.shared) throw new Error('ChunkWorker: the chunk is not in the shared buffer');
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
