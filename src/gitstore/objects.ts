// Git objects written straight into the object store, the way git writes them: content hashed
// with its header (sha1), deflated, written to a temp file in the fan-out directory, fsynced and
// linked into place, so a crash leaves either no object or a whole one, never a truncated one
// (isomorphic-git writes loose objects in place). An existing object is kept: same id, same bytes.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { randomHex } from '../store/random-id.ts';

export type ObjectType = 'blob' | 'tree' | 'commit';

export function objectId(type: ObjectType, content: Uint8Array): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

function loosePath(commonDir: string, oid: string): string {
  return join(commonDir, 'objects', oid.slice(0, 2), oid.slice(2));
}

export function hasLooseObject(commonDir: string, oid: string): boolean {
  try {
    return statSync(loosePath(commonDir, oid)).size > 0;
  } catch {
    return false;
  }
}

/** Writes one object (if it is not there yet) and returns its id. */
export function writeObject(commonDir: string, type: ObjectType, content: Uint8Array, oid = objectId(type, content)): string {
  const path = loosePath(commonDir, oid);
  if (hasLooseObject(commonDir, oid)) return oid;
  const dir = join(commonDir, 'objects', oid.slice(0, 2));
  mkdirSync(dir, { recursive: true });
  // Level 1: a state branch is written often and read rarely (git's own default is also fast).
  const data = deflateSync(Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]), { level: 1 });
  const tmp = join(dir, `tmp_obj_${process.pid}_${randomHex(4)}`);
  const fd = openSync(tmp, 'wx', 0o444);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // link, not rename: when another process wrote the same object meanwhile, theirs stays.
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return oid;
}

/** Reads a loose object, or null when it is not loose (it may be in a pack: ask git or isomorphic-git). */
export function readLooseObject(commonDir: string, oid: string): { type: string; content: Buffer } | null {
  let raw: Buffer;
  try {
    raw = inflateSync(readFileSync(loosePath(commonDir, oid)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const nul = raw.indexOf(0);
  const [type, size] = raw.toString('latin1', 0, nul).split(' ');
  const content = raw.subarray(nul + 1);
  if (Number(size) !== content.length) throw new Error(`git object ${oid} is damaged (size ${content.length}, header says ${size})`);
  return { type: type!, content };
}

export interface TreeEntry {
  name: string;
  mode: '100644' | '100755' | '40000';
  oid: string;
}

/** A tree object's bytes: entries in git's order (a directory sorts as if its name ended in '/'). */
export function treeContent(entries: TreeEntry[]): Buffer {
  const key = (e: TreeEntry) => (e.mode === '40000' ? `${e.name}/` : e.name);
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(key(a)), Buffer.from(key(b))));
  return Buffer.concat(sorted.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, 'hex')]));
}

export function parseTree(content: Buffer): TreeEntry[] {
  const out: TreeEntry[] = [];
  for (let i = 0; i < content.length; ) {
    const sp = content.indexOf(0x20, i);
    const nul = content.indexOf(0, sp);
    out.push({ mode: content.toString('latin1', i, sp) as TreeEntry['mode'], name: content.toString('utf8', sp + 1, nul), oid: content.toString('hex', nul + 1, nul + 21) });
    i = nul + 21;
  }
  return out;
}

export interface CommitFields {
  tree: string;
  parents: string[];
  author: { name: string; email: string };
  /** Seconds since the epoch. */
  time: number;
  message: string;
}

export function commitContent(c: CommitFields): Buffer {
  const who = `${c.author.name} <${c.author.email}> ${c.time} +0000`;
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`), `author ${who}`, `committer ${who}`, '', c.message.endsWith('\n') ? c.message : `${c.message}\n`];
  return Buffer.from(lines.join('\n'));
}

export function parseCommit(content: Buffer): { tree: string; parents: string[]; time: number; message: string } {
  const text = content.toString('utf8');
  const blank = text.indexOf('\n\n');
  const head = text.slice(0, blank).split('\n');
  const tree = head.find((l) => l.startsWith('tree '))!.slice(5);
  const parents = head.filter((l) => l.startsWith('parent ')).map((l) => l.slice(7));
  const committer = head.find((l) => l.startsWith('committer ')) ?? '';
  const time = Number(/ (\d+) [+-]\d{4}$/.exec(committer)?.[1] ?? 0);
  return { tree, parents, time, message: text.slice(blank + 2) };
}
