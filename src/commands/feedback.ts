// `feedback capture [--auto]` and `feedback review`: process and tool feedback of finished
// workflows (see src/feedback/). `finish` runs the capture by itself, in auto mode.
import { bool } from '../cli/args.ts';
import { ExitCode } from '../errors.ts';
import { captureFeedback } from '../feedback/capture.ts';
import { readReview, type Review } from '../feedback/review.ts';
import type { CommandInput, CommandResult } from './types.ts';

export function capture({ args, ctx }: CommandInput): CommandResult {
  const auto = bool(args, 'auto');
  const r = captureFeedback(ctx, auto ? 'auto' : 'manual');
  const rel = (p: string) => ctx.paths.rel(p);
  const data = {
    ok: true,
    outcome: r.outcome,
    files: { process: rel(r.files.process), tool: rel(r.files.tool) },
    written: r.written.map(rel),
    process: r.process,
    tool: r.tool,
  };
  if (r.outcome === 'disabled') {
    return { data, text: '', notices: ['ORCHESTRATOR_SKIP_FEEDBACK is set: feedback capture is off; nothing was written'] };
  }
  // --auto is the quiet mode for finish and hooks: nothing on stdout.
  if (auto || !r.process) return { data, text: '' };
  const p = r.process;
  const summary =
    `workflow ${p.workflow_id} (${p.status}${p.duration_seconds !== null ? `, ${formatDuration(p.duration_seconds)}` : ''}): ` +
    `${p.items_completed} of ${p.items_total} items completed, ${p.items_skipped_count} skipped, ` +
    `${p.failed_verifications.reduce((n, f) => n + f.count, 0)} failed verifications, ${p.retries} retries`;
  const text =
    r.outcome === 'unchanged'
      ? `Feedback for ${summary} is already captured; nothing changed since, nothing written.`
      : `Captured feedback for ${summary}.\nAppended to ${data.written.join(' and ')}.`;
  return { data, text };
}

export function review({ ctx }: CommandInput): CommandResult {
  const r = readReview(ctx.paths);
  const notices = r.sources
    .filter((s) => s.bad_lines.length)
    .map(
      (s) =>
        `${s.file}: line${s.bad_lines.length > 1 ? 's' : ''} ${s.bad_lines.join(', ')} ${s.bad_lines.length > 1 ? 'are' : 'is'} not a JSON record and ${s.bad_lines.length > 1 ? 'were' : 'was'} skipped; fix or delete ${s.bad_lines.length > 1 ? 'them' : 'it'} (a crash may have cut a line)`,
    );
  return {
    // Like `log`: the report is complete, but a corrupt file was read past (exit 2).
    exitCode: r.bad_lines ? ExitCode.badInput : ExitCode.ok,
    data: { ok: r.bad_lines === 0, ...r },
    text: renderReview(r),
    notices,
  };
}

function renderReview(r: Review): string {
  if (r.workflows === 0) {
    const read = r.sources.length ? ` (read ${r.sources.map((s) => s.file).join(', ')})` : '';
    return `No workflow feedback yet${read}: it is captured when a workflow ends (orchestrator finish), or with: orchestrator feedback capture`;
  }
  const statuses = Object.entries(r.by_status)
    .sort((a, b) => b[1] - a[1])
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const avg = r.average_duration_seconds !== null ? `; average duration ${formatDuration(r.average_duration_seconds)}` : '';
  const out = [`Feedback from ${r.workflows} workflow${r.workflows === 1 ? '' : 's'} (${statuses})${avg}; ${r.retries} retr${r.retries === 1 ? 'y' : 'ies'}.`, ''];
  out.push('Items skipped most:');
  if (r.skipped_most.length === 0) out.push('  (none skipped)');
  else {
    out.push(
      ...table(
        ['ITEM', 'SKIPPED IN', 'TOP REASONS'],
        r.skipped_most.slice(0, 10).map((s) => [
          s.item,
          `${s.workflows} of ${r.workflows} (${Math.round(s.share * 100)}%)`,
          s.reasons.length ? s.reasons.slice(0, 2).map((x) => `"${clip(x.reason, 60)}" (${x.count})`).join('; ') : '-',
        ]),
      ),
    );
  }
  out.push('', 'Checks failing most:');
  if (r.failing_most.length === 0) out.push('  (no failed verifications recorded)');
  else {
    out.push(
      ...table(
        ['ITEM', 'FAILURES', 'WORKFLOWS', 'PASSED LATER', 'LAST EXIT CODES'],
        r.failing_most.slice(0, 10).map((f) => [
          f.item,
          String(f.failures),
          String(f.workflows),
          `${f.passed_later} of ${f.workflows}`,
          Object.entries(f.exit_codes)
            .map(([code, n]) => (n > 1 ? `${code} (x${n})` : code))
            .join(', ') || '-',
        ]),
      ),
    );
  }
  out.push('', `Read: ${r.sources.map((s) => `${s.file} (${s.records} record${s.records === 1 ? '' : 's'}${s.bad_lines.length ? `, ${s.bad_lines.length} bad line${s.bad_lines.length === 1 ? '' : 's'} skipped` : ''})`).join(', ')}`);
  return out.join('\n');
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)];
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? one.slice(0, n - 1) + '…' : one;
}

export function formatDuration(s: number): string {
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}
