// A saved tree as files (path -> mode and content) and back, with JSON Lines segments joined on
// the way out and cut again on the way in (see snapshot.ts), for restore and merge.
import { parseTree, treeContent, type TreeEntry } from '../gitstore/objects.ts';
import { isSegmented, splitSegments } from './snapshot.ts';

export type ReadObject = (oid: string) => Buffer;
export type PutObject = (type: 'blob' | 'tree', content: Buffer) => string;

export interface StoredFile {
  mode: '100644' | '100755';
  /** The blob, or for a segmented file the tree of its segments: equal ids, equal contents. */
  oid: string;
  content: () => Buffer;
}

const SEGMENT_NAME = /^\d{6}$/;

export function storedFiles(read: ReadObject, tree: string): Map<string, StoredFile> {
  const out = new Map<string, StoredFile>();
  const walk = (oid: string, prefix: string) => {
    for (const e of parseTree(read(oid))) {
      const path = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.mode !== '40000') {
        out.set(path, { mode: e.mode === '100755' ? '100755' : '100644', oid: e.oid, content: () => read(e.oid) });
        continue;
      }
      const children = e.name.endsWith('.jsonl') ? parseTree(read(e.oid)) : null;
      if (children && children.every((c) => SEGMENT_NAME.test(c.name) && c.mode !== '40000')) {
        out.set(path, { mode: '100644', oid: e.oid, content: () => Buffer.concat(children.map((c) => read(c.oid))) });
      } else walk(e.oid, path);
    }
  };
  walk(tree, '');
  return out;
}

/** Writes files as a tree (segmenting big JSON Lines files) and returns the tree id. */
export function buildTree(files: Map<string, { mode: '100644' | '100755'; content: Buffer }>, put: PutObject): string {
  interface Dir {
    dirs: Map<string, Dir>;
    entries: TreeEntry[];
  }
  const root: Dir = { dirs: new Map(), entries: [] };
  for (const [path, f] of files) {
    const parts = path.split('/');
    const name = parts.pop()!;
    let d = root;
    for (const p of parts) {
      let next = d.dirs.get(p);
      if (!next) d.dirs.set(p, (next = { dirs: new Map(), entries: [] }));
      d = next;
    }
    if (isSegmented(name, f.content.length)) {
      const segs = splitSegments(f.content).map((seg, i): TreeEntry => ({ name: String(i).padStart(6, '0'), mode: '100644', oid: put('blob', seg) }));
      d.entries.push({ name, mode: '40000', oid: put('tree', treeContent(segs)) });
    } else d.entries.push({ name, mode: f.mode, oid: put('blob', f.content) });
  }
  const write = (d: Dir): string => {
    const entries = [...d.entries];
    for (const [name, sub] of d.dirs) entries.push({ name, mode: '40000', oid: write(sub) });
    return put('tree', treeContent(entries));
  };
  return write(root);
}
