// Terminal input for the few commands that may ask: a hidden line (passphrases, secret values)
// and all of stdin (a value piped in). Callers ask only when `interactive()` said a human is there.
import { readSync, writeSync } from 'node:fs';
import { UsageError } from '../errors.ts';

export function stdinIsTerminal(): boolean {
  return (require('node:tty') as typeof import('node:tty')).isatty(0);
}

/**
 * Reads one line from the terminal without echoing it: raw mode, so the characters are never
 * shown, not even for a moment. Enter ends it; Backspace works; Ctrl-C or Ctrl-D on an empty line
 * cancels. The question goes to stderr so stdout stays the command's output.
 */
export function readHiddenLine(question: string): Promise<string> {
  const stdin = process.stdin;
  // Raw mode before the question shows: an answer typed as soon as it appears is never echoed.
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  writeSync(2, question);
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (err: Error | null) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      writeSync(2, '\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003' || (ch === '\u0004' && typed === '')) return finish(new UsageError('cancelled at the prompt; nothing was changed'));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch >= ' ' || ch === '\t') typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** All of stdin (a pipe, a file or /dev/null), as UTF-8. */
export function readAllStdin(): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.allocUnsafe(64 * 1024);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A non-blocking pipe with nothing in it yet: wait a little, the writer is still writing.
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 5);
        continue;
      }
      if (code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}
