// Whether a repository holds an object, answered from the object store without running git: a
// loose object file, or an entry in a pack index (binary search with a few positioned reads, so
// a large pack costs no more than a small one). Alternates (`objects/info/alternates`) are
// followed one level, as `git clone --reference` sets them up.
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

const OID = /^[0-9a-f]{40}$/;

/** True when the object is in the store; false also when it cannot be read (no such store). */
export function hasObject(commonDir: string, oid: string): boolean {
  if (!OID.test(oid)) return false;
  const objects = join(commonDir, 'objects');
  if (inObjectDir(objects, oid)) return true;
  for (const alt of alternates(objects)) if (inObjectDir(alt, oid)) return true;
  return false;
}

function inObjectDir(objects: string, oid: string): boolean {
  try {
    if (statSync(join(objects, oid.slice(0, 2), oid.slice(2))).size > 0) return true;
  } catch {
    // not loose
  }
  let names: string[];
  try {
    names = readdirSync(join(objects, 'pack'));
  } catch {
    return false;
  }
  const wanted = Buffer.from(oid, 'hex');
  return names.some((n) => n.endsWith('.idx') && inPackIndex(join(objects, 'pack', n), wanted));
}

function alternates(objects: string): string[] {
  try {
    return readFileSync(join(objects, 'info', 'alternates'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => (isAbsolute(l) ? l : resolve(objects, l)));
  } catch {
    return [];
  }
}

/** Pack index version 2 (what git has written since 1.5.2): magic, version, fan-out, sorted ids. */
function inPackIndex(path: string, oid: Buffer): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(8 + 256 * 4);
    if (readSync(fd, head, 0, head.length, 0) !== head.length) return false;
    if (head.readUInt32BE(0) !== 0xff744f63 || head.readUInt32BE(4) !== 2) return false;
    const first = oid[0]!;
    let lo = first === 0 ? 0 : head.readUInt32BE(8 + (first - 1) * 4);
    let hi = head.readUInt32BE(8 + first * 4);
    const entry = Buffer.alloc(20);
    const idsAt = 8 + 256 * 4;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (readSync(fd, entry, 0, 20, idsAt + mid * 20) !== 20) return false;
      const c = entry.compare(oid);
      if (c === 0) return true;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return false;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
