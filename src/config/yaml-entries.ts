// A config file as flat `dotted.key -> value` entries, each with its line, so a warning can name
// the line. Nested maps become dotted keys (`migrate: {auto: true}` is `migrate.auto`), except
// under a key whose value is itself a map (`repos.aliases`): that key takes the whole map.
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { KEY_BY_NAME } from './keys.ts';

export interface Entry {
  key: string;
  value: unknown;
  line: number;
}

export function parseFileEntries(text: string): { entries: Entry[]; error?: { line: number; message: string } } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const first = doc.errors[0];
  if (first) return { entries: [], error: { line: lineCounter.linePos(first.pos[0]).line, message: first.message.split('\n')[0]! } };
  const entries: Entry[] = [];
  const walk = (node: unknown, prefix: string) => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const key = prefix ? `${prefix}.${name}` : name;
      const line = keyNode?.range ? lineCounter.linePos(keyNode.range[0]).line : 0;
      // `settings:` holds free-form workflow values: its entries stay one level deep.
      if (isMap(pair.value) && prefix !== 'settings' && !KEY_BY_NAME.has(key)) walk(pair.value, key);
      else entries.push({ key, value: pair.value && typeof (pair.value as Node).toJSON === 'function' ? (pair.value as Node).toJSON() : (pair.value as unknown), line });
    }
  };
  if (doc.contents === null) return { entries };
  if (!isMap(doc.contents)) return { entries: [], error: { line: 1, message: 'the file must be a map of keys to values' } };
  walk(doc.contents, '');
  return { entries };
}
