// What a decrypted legacy secrets file holds: KEY=VALUE lines (the fixture, shell-style files) or a
// YAML mapping (what the Python tool's `encrypt_secrets` wrote with yaml.safe_dump). Messages name
// a line number at most: the text is secret, so no part of it ever reaches an error.
import { parse as parseYaml } from 'yaml';
import { CorruptFileError } from '../errors.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/;

/** Names and values of a decrypted legacy file; `shown` names the file in messages. */
export function parseLegacyContent(text: string, shown: string): Map<string, string> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const meaningful = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (meaningful.length > 0 && meaningful.every(({ l }) => ASSIGNMENT.test(l))) return parseAssignments(meaningful, shown);
  return parseMapping(text, shown);
}

function parseAssignments(lines: { l: string; i: number }[], shown: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const { l, i } of lines) {
    const m = ASSIGNMENT.exec(l)!;
    const raw = m[2]!.trim();
    let value: string;
    if (raw.length >= 2 && raw.startsWith("'") && raw.endsWith("'")) value = raw.slice(1, -1);
    else if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) value = unescapeDouble(raw.slice(1, -1));
    else if (raw.startsWith("'") || raw.startsWith('"')) {
      throw new CorruptFileError(`${shown}: line ${i + 1} (after decryption) opens a quote it does not close; fix the file with openssl, or set the value again with: orchestrator secrets set ${m[1]}`);
    } else value = raw;
    out.set(m[1]!, value);
  }
  return out;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
}

function parseMapping(text: string, shown: string): Map<string, string> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    // The parser's own message quotes the text around the error: keep only the line number.
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new CorruptFileError(`${shown}: decrypts, but is neither KEY=VALUE lines nor valid YAML${line ? ` (line ${line})` : ''}; re-create it, or move its values with: orchestrator secrets set KEY`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new CorruptFileError(`${shown}: decrypts, but holds neither KEY=VALUE lines nor a YAML mapping of names to values; re-create it, or move its values with: orchestrator secrets set KEY`);
  }
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    // Like the Python tool: every scalar becomes a string; nulls and nested values are not secrets.
    if (!NAME.test(k) || v === null || v === undefined || typeof v === 'object') continue;
    out.set(k, String(v));
  }
  return out;
}
