// Edits one config file in place for `config set|unset`: the YAML document is changed node by
// node, so the user's comments, order and other keys stay. Pure text in, text out; the caller
// writes it atomically under the right lock.
import { isMap, isScalar, LineCounter, parseDocument, YAMLMap, type Document, type Node, type Pair } from 'yaml';
import { CorruptFileError } from '../errors.ts';
import { KEY_BY_NAME } from './keys.ts';

interface Found {
  map: YAMLMap;
  pair: Pair;
  /** The maps from the top down to `map`, with the pair holding each: for pruning empty maps. */
  parents: { map: YAMLMap; pair: Pair }[];
}

/**
 * `settings.test_command` is one level under settings, and `repos.aliases.a.b` one under the map
 * key repos.aliases (member names may hold dots); every other key is dotted all the way.
 */
function keyPath(key: string): string[] {
  if (key.startsWith('settings.')) return ['settings', key.slice('settings.'.length)];
  const map = [...KEY_BY_NAME.values()].find((k) => typeof k.default === 'object' && k.default !== null && key.startsWith(k.key + '.'));
  return map ? [...map.key.split('.'), key.slice(map.key.length + 1)] : key.split('.');
}

function nameOf(pair: Pair): string {
  const k = pair.key as Node | null;
  return isScalar(k) ? String(k.value) : String(k);
}

/**
 * Every entry that spells `key`, nested (`lock: {timeout: 5}`) or flat (`lock.timeout: 5`) or a
 * mix: the loader reads all of them, so an edit must find all of them.
 */
function findAll(doc: Document, key: string): Found[] {
  const found: Found[] = [];
  const walk = (map: YAMLMap, rest: string, parents: Found['parents']) => {
    for (const pair of map.items) {
      const name = nameOf(pair);
      if (name === rest) found.push({ map, pair, parents });
      else if (rest.startsWith(name + '.') && isMap(pair.value) && name !== 'settings') {
        walk(pair.value, rest.slice(name.length + 1), [...parents, { map, pair }]);
      } else if (name === 'settings' && rest.startsWith('settings.') && isMap(pair.value)) {
        // settings entries are one level deep: `settings.a.b` is the setting "a.b"
        for (const p of pair.value.items) if (nameOf(p) === rest.slice('settings.'.length)) found.push({ map: pair.value, pair: p, parents: [...parents, { map, pair }] });
      }
    }
  };
  if (isMap(doc.contents)) walk(doc.contents, key, []);
  return found;
}

function parse(text: string, shown: string): Document {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const line = lineCounter.linePos(err.pos[0]).line;
    throw new CorruptFileError(`${shown}:${line}: not valid YAML (${err.message.split('\n')[0]}); fix or delete that line, then run the command again`);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new CorruptFileError(`${shown}:1: the file must be a map of keys to values; fix it or delete it, then run the command again`);
  }
  return doc;
}

/**
 * A repo config.yaml with none of our keys holds the Python tool's settings at its top level (see
 * holdsPythonSettings). Adding one of our keys would turn those into unknown keys, so they move
 * under `settings:` first, where they keep meaning what they meant.
 */
function nestPythonSettings(doc: Document): void {
  if (!isMap(doc.contents)) return;
  const settings = new YAMLMap();
  settings.items = doc.contents.items;
  const top = new YAMLMap();
  top.set(doc.createNode('settings'), settings);
  doc.contents = top as never;
}

export interface EditResult {
  text: string;
  changed: boolean;
  /** The Python tool's top-level settings were moved under `settings:`. */
  nested: boolean;
}

/** Sets `key` to `value`: the first entry that spells it is changed, any other is removed. */
export function setKey(text: string, shown: string, key: string, value: unknown, pythonShaped: boolean): EditResult {
  const doc = parse(text, shown);
  if (pythonShaped) nestPythonSettings(doc);
  const [first, ...others] = findAll(doc, key);
  for (const f of others.reverse()) remove(f);
  if (first) {
    // Changing the scalar in place keeps a comment on its line.
    if (isScalar(first.pair.value) && (value === null || typeof value !== 'object')) first.pair.value.value = value;
    else first.pair.value = doc.createNode(value);
  } else if (!isMap(doc.contents)) {
    doc.contents = doc.createNode(nestedValue(keyPath(key), value)) as never;
  } else {
    // Under the deepest map that already exists (`lock:` gets `timeout:` beside its other keys).
    const path = keyPath(key);
    let map: YAMLMap = doc.contents;
    let i = 0;
    for (; i < path.length - 1; i++) {
      const next = map.items.find((p) => nameOf(p) === path[i]);
      if (!next || !isMap(next.value)) break;
      map = next.value;
    }
    map.set(doc.createNode(path[i]), doc.createNode(nestedValue(path.slice(i + 1), value)));
  }
  const out = String(doc);
  return { text: out, changed: out !== text, nested: pythonShaped };
}

function nestedValue(path: string[], value: unknown): unknown {
  return path.reduceRight((v, name) => ({ [name]: v }), value);
}

/** Removes every entry that spells `key`, and the maps that become empty because of it. */
export function unsetKey(text: string, shown: string, key: string): EditResult {
  const doc = parse(text, shown);
  const found = findAll(doc, key);
  for (const f of found.reverse()) remove(f);
  // The last key gone leaves an empty file, not `{}`.
  const empty = isMap(doc.contents) && doc.contents.items.length === 0 && !doc.comment && !doc.commentBefore;
  const out = !found.length ? text : empty ? '' : String(doc);
  return { text: out, changed: found.length > 0, nested: false };
}

function remove(f: Found): void {
  f.map.items.splice(f.map.items.indexOf(f.pair), 1);
  let child = f.map;
  for (const parent of [...f.parents].reverse()) {
    if (child.items.length > 0) break;
    parent.map.items.splice(parent.map.items.indexOf(parent.pair), 1);
    child = parent.map;
  }
}
