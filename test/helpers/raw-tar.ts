// Tar archives written byte by byte, for crafted (malicious) snapshots: the tests must not depend
// on what the tar package agrees to write. ustar headers (POSIX 1003.1-1988 layout), optional pax
// records, the two zero end blocks unless asked not to.
import { gzipSync } from 'node:zlib';

export interface RawEntry {
  name: string;
  /** Type flag: '0' file, '1' hard link, '2' symlink, '3' char device, '5' directory, '6' fifo, 'S' GNU sparse, 'x' pax. */
  type?: string;
  /** What the header says; defaults to the data's length. */
  size?: number;
  data?: Buffer | string;
  linkname?: string;
  mode?: number;
  /** pax records (e.g. path) sent in an 'x' header right before this entry. */
  pax?: Record<string, string>;
}

function field(h: Buffer, offset: number, length: number, value: string): void {
  h.write(value, offset, length, 'utf8');
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0';
}

export function ustarHeader(e: { name: string; type: string; size: number; linkname?: string; mode?: number }): Buffer {
  if (Buffer.byteLength(e.name) > 100) throw new Error(`raw-tar: name over 100 bytes: ${e.name}`);
  const h = Buffer.alloc(512);
  field(h, 0, 100, e.name);
  field(h, 100, 8, octal(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 8));
  field(h, 108, 8, octal(0, 8));
  field(h, 116, 8, octal(0, 8));
  field(h, 124, 12, octal(e.size, 12));
  field(h, 136, 12, octal(1_700_000_000, 12));
  field(h, 148, 8, '        ');
  field(h, 156, 1, e.type);
  field(h, 157, 100, e.linkname ?? '');
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function padded(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest ? Buffer.concat([data, Buffer.alloc(512 - rest)]) : data;
}

function paxRecords(records: Record<string, string>): Buffer {
  let out = '';
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    out += `${len}${body}`;
  }
  return Buffer.from(out, 'utf8');
}

export function rawTar(entries: RawEntry[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) {
      const records = paxRecords(e.pax);
      parts.push(ustarHeader({ name: 'PaxHeader/x', type: 'x', size: records.length }), padded(records));
    }
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : (e.data ?? Buffer.alloc(0));
    parts.push(ustarHeader({ name: e.name, type: e.type ?? '0', size: e.size ?? data.length, linkname: e.linkname, mode: e.mode }), padded(data));
  }
  if (opts.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function rawTarGz(entries: RawEntry[], opts: { end?: boolean } = {}): Buffer {
  return gzipSync(rawTar(entries, opts));
}
