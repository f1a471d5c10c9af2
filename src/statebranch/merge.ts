// Merging two diverged saves of the state branch (two machines saved since they last met), three
// ways: a file only one side changed since their last common save takes that side's version.
// Different sessions never conflict: they are different files. The same JSON Lines file keeps
// every line of both sides, ours first, then theirs not already present, in their order. The same
// session's state.json keeps the newer revision (by _updated_at) and records the other next to it
// as merged/state-<commit>.json. Any other file that differs keeps our version; nothing is
// dropped silently: the merge commit lists what it decided.
import { storedFiles, type ReadObject, type StoredFile } from './tree-files.ts';

export interface MergeResult {
  files: Map<string, { mode: '100644' | '100755'; content: Buffer }>;
  notes: string[];
}

function unionLines(ours: Buffer, theirs: Buffer): Buffer {
  const mine = ours.toString('utf8');
  const seen = new Set(mine.split('\n'));
  const extra = theirs
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '' && !seen.has(l));
  if (!extra.length) return ours;
  const sep = mine === '' || mine.endsWith('\n') ? '' : '\n';
  return Buffer.from(mine + sep + extra.join('\n') + '\n');
}

function updatedAt(content: Buffer): string {
  try {
    const v = JSON.parse(content.toString('utf8')) as { _updated_at?: unknown };
    return typeof v._updated_at === 'string' ? v._updated_at : '';
  } catch {
    return '';
  }
}

/** Three-way: a side that still has the base's version of a file did not change it. */
export function mergeSaves(read: ReadObject, baseTree: string | null, oursTree: string, theirsTree: string, theirsCommit: string): MergeResult {
  const base = baseTree ? storedFiles(read, baseTree) : new Map<string, StoredFile>();
  const ours = storedFiles(read, oursTree);
  const theirs = storedFiles(read, theirsTree);
  const files: MergeResult['files'] = new Map();
  const notes: string[] = [];
  for (const path of new Set([...ours.keys(), ...theirs.keys()])) {
    const a = ours.get(path);
    const b = theirs.get(path);
    const o = base.get(path)?.oid;
    if (!a || !b || a.oid === b.oid || b.oid === o || a.oid === o) {
      // One side only, or only one side changed it: that side's version.
      const f = !a ? b! : !b ? a : b.oid === o ? a : a.oid === o ? b : a;
      files.set(path, { mode: f.mode, content: f.content() });
      continue;
    }
    if (path.endsWith('.jsonl')) {
      files.set(path, { mode: a.mode, content: unionLines(a.content(), b.content()) });
      notes.push(`${path}: lines of both kept`);
    } else if (/^sessions\/[^/]+\/state\.json$/.test(path)) {
      const [ac, bc] = [a.content(), b.content()];
      const theirsNewer = updatedAt(bc) > updatedAt(ac);
      const [kept, other, otherName] = theirsNewer ? [bc, ac, 'ours'] : [ac, bc, theirsCommit.slice(0, 12)];
      files.set(path, { mode: a.mode, content: kept });
      const record = path.replace(/state\.json$/, `merged/state-${otherName === 'ours' ? 'local' : otherName}-${updatedAt(other).replace(/[^0-9TZ]/g, '') || 'unknown'}.json`);
      files.set(record, { mode: '100644', content: other });
      notes.push(`${path}: kept the newer revision (${theirsNewer ? 'theirs' : 'ours'}); the other is in ${record}`);
    } else {
      files.set(path, { mode: a.mode, content: a.content() });
      notes.push(`${path}: kept ours (theirs differed)`);
    }
  }
  return { files, notes };
}
