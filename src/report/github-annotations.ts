/**
 * A run as GitHub Actions workflow commands: `::error file=…,line=…::message` lines that the
 * runner turns into annotations on the pull request, and a Markdown line for the job summary.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Finding } from '../actions/types.js';
import { SUCCESS_STATUSES, type RunRecord } from '../store/types.js';

/** GitHub keeps 10 error and 10 warning annotations per step and 50 per job; more are only log noise. */
const MAX_ANNOTATIONS = 50;

const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function command(
  level: Finding['severity'],
  props: Record<string, string | number | undefined>,
  message: string,
) {
  const list = Object.entries(props)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${level}${list ? ` ${list}` : ''}::${escapeData(message)}`;
}

export interface AnnotationPlaces {
  /** The config file's directory: a finding's relative `file` is relative to it. */
  readonly baseDir: string;
  /** The workflow's checkout (GITHUB_WORKSPACE, else the working directory): annotation paths are relative to it. */
  readonly workspace: string;
}

/** A finding's file as GitHub wants it: relative to the checkout, with forward slashes. */
function workspacePath(file: string, places: AnnotationPlaces): string {
  const abs = isAbsolute(file) ? file : resolve(places.baseDir, file);
  const rel = relative(places.workspace, abs);
  return (rel.startsWith('..') || isAbsolute(rel) ? abs : rel).split(sep).join('/');
}

export function githubAnnotations(run: RunRecord, places: AnnotationPlaces): string[] {
  const title = `caretaker ${run.task}`;
  const result = run.result;
  const lines: string[] = [];
  const findings = result?.findings ?? [];
  for (const f of findings.slice(0, MAX_ANNOTATIONS)) {
    lines.push(
      command(
        f.severity,
        {
          file: f.file === undefined ? undefined : workspacePath(f.file, places),
          line: f.line,
          col: f.column,
          title: f.title ? `${title}: ${f.title}` : title,
        },
        f.message,
      ),
    );
  }
  if (findings.length > MAX_ANNOTATIONS)
    lines.push(
      command(
        'notice',
        { title },
        `${findings.length - MAX_ANNOTATIONS} more findings; see the run's details (caretaker history ${run.task} --json)`,
      ),
    );
  for (const w of result?.warnings ?? []) lines.push(command('warning', { title }, w));
  if (!SUCCESS_STATUSES.includes(run.status)) {
    const what = result?.summary || run.reason || 'no result';
    lines.push(
      command('error', { title: `${title} ${run.status}` }, `run #${run.id} ${run.status}: ${what}`),
    );
  }
  return lines;
}

/** One Markdown line for $GITHUB_STEP_SUMMARY. */
export function githubStepSummary(run: RunRecord): string {
  const ok = SUCCESS_STATUSES.includes(run.status);
  const what = (run.result?.summary || run.reason || '').replace(/\|/g, '\\|').replace(/\s+/g, ' ');
  return `${ok ? '✅' : '❌'} **${run.task}** ${run.status}${run.dryRun ? ' (dry run)' : ''}: ${what}\n`;
}
