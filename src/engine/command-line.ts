// Turns a verification's command template into an argv WITHOUT a shell. The template is split
// into words first (quotes as in sh), then `{{var}}` values are substituted and checked, so a
// setting can never smuggle `;`, `&&`, `$(...)` or a redirection into what runs.
import { UnsafeCommandError } from '../errors.ts';

/** Characters that only mean something to a shell; unquoted they would silently not work. */
const SHELL_SYNTAX = /[;&|<>()$`\n\r\0*?]/;

interface Word {
  text: string;
  /** True when the whole word was one unquoted `{{var}}` placeholder. */
  bareVar: string | null;
}

function splitWords(src: string, what: string): Word[] {
  const words: Word[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(finish(cur, quoted));
      cur = '';
      inWord = false;
      quoted = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new UnsafeCommandError(`${what}: unterminated ' quote; close it`);
      cur += src.slice(i + 1, end);
      quoted = true;
      i = end;
    } else if (c === '"') {
      quoted = true;
      let j = i + 1;
      for (; j < src.length && src[j] !== '"'; j++) {
        if (src[j] === '\\' && (src[j + 1] === '"' || src[j + 1] === '\\')) j++;
        else if (src[j] === '$' || src[j] === '`') {
          throw new UnsafeCommandError(`${what}: "${src[j]}" inside double quotes means expansion in a shell; commands run without one: write the value literally`);
        }
        cur += src[j];
      }
      if (j >= src.length) throw new UnsafeCommandError(`${what}: unterminated " quote; close it`);
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= src.length) throw new UnsafeCommandError(`${what}: trailing backslash; remove it`);
      cur += src[++i];
    } else if (SHELL_SYNTAX.test(c)) {
      throw new UnsafeCommandError(
        `${what}: shell syntax "${c}" in ${JSON.stringify(src)}; commands run without a shell: put the pipeline in a script and run that, or write sh -c '...' explicitly`,
      );
    } else {
      cur += c;
    }
  }
  if (inWord) words.push(finish(cur, quoted));
  return words;
}

function finish(text: string, quoted: boolean): Word {
  const m = !quoted ? /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/.exec(text) : null;
  return { text, bareVar: m ? m[1]! : null };
}

const VAR = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/**
 * @param template  the `command:` of a verification, as written in workflow.yaml
 * @param vars      settings values for `{{var}}`
 * @param where     names the item for messages, e.g. `workflow.yaml: item all_tests_pass`
 */
export function buildArgv(template: string, vars: Record<string, string>, where: string): string[] {
  const argv: string[] = [];
  // `{{ name }}` may hold spaces inside the braces; close them up so splitting keeps it one word.
  const tidy = template.replace(VAR, '{{$1}}');
  for (const w of splitWords(tidy, `${where}: command`)) {
    if (w.bareVar !== null) {
      // A whole-word placeholder expands to words of its own: test_command "npm run test".
      const value = lookup(vars, w.bareVar, where);
      for (const sub of splitWords(value, `${where}: setting ${w.bareVar} (${JSON.stringify(value)})`)) {
        if (sub.bareVar !== null) throw nested(where, w.bareVar);
        argv.push(sub.text);
      }
      continue;
    }
    argv.push(
      w.text.replace(VAR, (_m, name: string) => {
        const value = lookup(vars, name, where);
        if (SHELL_SYNTAX.test(value) || /["'\\]/.test(value)) {
          throw new UnsafeCommandError(
            `${where}: setting ${name} (${JSON.stringify(value)}) carries shell syntax; commands run without a shell: give it a plain value`,
          );
        }
        return value;
      }),
    );
  }
  if (argv.length === 0 || argv[0] === '') throw new UnsafeCommandError(`${where}: the command is empty; write the program to run`);
  return argv;
}

function lookup(vars: Record<string, string>, name: string, where: string): string {
  const v = vars[name];
  if (v === undefined) {
    throw new UnsafeCommandError(`${where}: {{${name}}} is not defined; add ${name}: under settings: in workflow.yaml`);
  }
  return v;
}

function nested(where: string, name: string): UnsafeCommandError {
  return new UnsafeCommandError(`${where}: setting ${name} contains another {{placeholder}}; give it a plain value`);
}
