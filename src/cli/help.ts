// Help text, generated from the command specs so it cannot drift from what the parser accepts.
import { VERSION } from '../version.ts';
import { GLOBAL_FLAGS, type FlagSpecs } from './args.ts';
import { COMMANDS, type CommandSpec } from './command-specs.ts';

export function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  const lines = [
    `orchestrator ${VERSION}: walks an AI coding agent through a workflow (workflow.yaml), keeping all state in .orchestrator/`,
    '',
    'Usage: orchestrator COMMAND [ARGS] [FLAGS]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Flags for every command:',
    ...flagLines(GLOBAL_FLAGS),
    '  --version               print the version',
    '',
    'Exit codes: 0 done, 1 a check failed, 2 bad input, 3 conflict (lock, wrong phase), 4 environment.',
    'Run "orchestrator COMMAND --help" for details.',
  ];
  return lines.join('\n') + '\n';
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: orchestrator ${spec.usage}`, '', spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + '.'];
  if (spec.details) lines.push('', ...wrap(spec.details, 100));
  const own = flagLines(spec.flags);
  if (own.length) lines.push('', 'Flags:', ...own);
  lines.push('', 'Global flags:', ...flagLines(GLOBAL_FLAGS));
  return lines.join('\n') + '\n';
}

function flagLines(specs: FlagSpecs): string[] {
  return Object.entries(specs).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : ''}--${name}${s.type === 'string' ? ` ${s.value ?? 'VALUE'}` : ''}`;
    return `  ${left.padEnd(22)}  ${s.help}`;
  });
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
