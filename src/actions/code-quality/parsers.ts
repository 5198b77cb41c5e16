/**
 * Readers of the checkers' own report formats. Pure: each takes what the tool printed (and the
 * directory it ran in, to make paths relative) and returns issues, or why the text is no report —
 * which, with the exit code, is how "the tool found problems" is told from "the tool did not run".
 */
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLine, type Issue, type OutputFormat, type Parsed, type Severity } from './issues.js';

export interface ToolOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
}

function rel(cwd: string, file: string): string {
  const r = isAbsolute(file) ? relative(cwd, file) : file;
  return r.split(sep).join('/');
}

function json(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function notAReport(what: string, out: ToolOutput): { ok: false; reason: string } {
  const said = firstLine(out.stderr) || firstLine(out.stdout);
  return { ok: false, reason: `${what} (exit ${out.exitCode ?? 'none'})${said ? `: ${said}` : ''}` };
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** `eslint -f json`: one entry per file, `messages` with severity 1 (warning) or 2 (error). */
export function parseEslintJson(tool: string, out: ToolOutput, cwd: string): Parsed {
  const data = json(out.stdout.trim());
  if (!Array.isArray(data)) return notAReport('no ESLint JSON report', out);
  const issues: Issue[] = [];
  for (const file of data) {
    if (!isRec(file) || !Array.isArray(file.messages)) continue;
    for (const m of file.messages) {
      if (!isRec(m)) continue;
      issues.push({
        tool,
        severity: m.severity === 2 || m.fatal === true ? 'error' : 'warning',
        file: rel(cwd, str(file.filePath) ?? ''),
        line: num(m.line),
        column: num(m.column),
        rule: str(m.ruleId) ?? (m.fatal ? 'parse-error' : undefined),
        message: str(m.message) ?? '',
      });
    }
  }
  return { ok: true, issues };
}

const TSC_LINE = /^(.+?)\((\d+),(\d+)\): (error|warning|message) (TS\d+): (.*)$/;
const TSC_GLOBAL = /^(error|warning|message) (TS\d+): (.*)$/;

/** `tsc --pretty false`: `file(line,col): error TS1234: text`, continuation lines indented. */
export function parseTsc(tool: string, out: ToolOutput, cwd: string): Parsed {
  const issues: Issue[] = [];
  const sev = (s: string): Severity => (s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'info');
  for (const line of out.stdout.split('\n')) {
    const m = TSC_LINE.exec(line);
    const g = m ? null : TSC_GLOBAL.exec(line);
    if (m)
      issues.push({
        tool,
        severity: sev(m[4]!),
        file: rel(cwd, m[1]!),
        line: Number(m[2]),
        column: Number(m[3]),
        rule: m[5],
        message: m[6]!,
      });
    else if (g) issues.push({ tool, severity: sev(g[1]!), file: null, rule: g[2], message: g[3]! });
  }
  // tsc exits 1 or 2 when it reports diagnostics; a non-zero exit with none is a failure to run.
  if (issues.length === 0 && out.exitCode !== 0) return notAReport('no tsc diagnostics', out);
  return { ok: true, issues };
}

/** `ruff check --output-format json`: a list of violations (`code`, `location.row`, `severity`). */
export function parseRuffJson(tool: string, out: ToolOutput, cwd: string): Parsed {
  const data = json(out.stdout.trim());
  if (!Array.isArray(data)) return notAReport('no ruff JSON report', out);
  const issues: Issue[] = [];
  for (const v of data) {
    if (!isRec(v)) continue;
    const loc = isRec(v.location) ? v.location : {};
    const s = str(v.severity);
    issues.push({
      tool,
      severity: s === 'warning' ? 'warning' : s === 'info' ? 'info' : 'error',
      file: rel(cwd, str(v.filename) ?? ''),
      line: num(loc.row),
      column: num(loc.column),
      rule: str(v.code) ?? undefined,
      message: str(v.message) ?? '',
    });
  }
  return { ok: true, issues };
}

/**
 * `prettier --check`: `[warn] <file>` per unformatted file and `[error] <file>: <error>` per file
 * it could not parse, on stderr. Exit 1: unformatted files; 2: errors (a real report when files
 * are named, a failure to run otherwise, e.g. no files matched).
 */
export function parsePrettierCheck(tool: string, out: ToolOutput): Parsed {
  const issues: Issue[] = [];
  for (const line of `${out.stderr}\n${out.stdout}`.split('\n')) {
    const warn = /^\[warn\] (.+)$/.exec(line);
    if (warn && !/^Code style issues /.test(warn[1]!)) {
      issues.push({ tool, severity: 'error', file: warn[1]!, rule: 'format', message: 'not formatted' });
      continue;
    }
    const err = /^\[error\] ([^\s:][^:]*): (.+)$/.exec(line);
    if (err && !/^No (files|parser)/.test(err[1]!))
      issues.push({ tool, severity: 'error', file: err[1]!, rule: 'syntax', message: err[2]! });
  }
  if (out.exitCode !== 0 && issues.length === 0) return notAReport('no files named by prettier', out);
  return { ok: true, issues };
}

function sarifFile(uri: string | undefined, cwd: string): string | null {
  if (!uri) return null;
  if (uri.startsWith('file:')) {
    try {
      return rel(cwd, fileURLToPath(uri));
    } catch {
      return uri;
    }
  }
  try {
    return decodeURIComponent(uri);
  } catch {
    return uri;
  }
}

/** SARIF 2.1: `runs[].results[]` with `level` (error/warning/note/none; default warning). */
export function parseSarif(tool: string, text: string, out: ToolOutput, cwd: string): Parsed {
  const data = json(text.trim());
  if (!isRec(data) || !Array.isArray(data.runs)) return notAReport('no SARIF log', out);
  const issues: Issue[] = [];
  for (const run of data.runs) {
    if (!isRec(run) || !Array.isArray(run.results)) continue;
    const driver = isRec(run.tool) && isRec(run.tool.driver) ? run.tool.driver : {};
    const rules = Array.isArray(driver.rules) ? driver.rules : [];
    for (const r of run.results) {
      if (!isRec(r)) continue;
      const level = str(r.level) ?? 'warning';
      const loc = Array.isArray(r.locations) && isRec(r.locations[0]) ? r.locations[0] : {};
      const phys = isRec(loc.physicalLocation) ? loc.physicalLocation : {};
      const art = isRec(phys.artifactLocation) ? phys.artifactLocation : {};
      const region = isRec(phys.region) ? phys.region : {};
      const ruleIndex = num(r.ruleIndex);
      const indexed =
        ruleIndex !== undefined && isRec(rules[ruleIndex]) ? str(rules[ruleIndex].id) : undefined;
      issues.push({
        tool,
        severity: level === 'error' ? 'error' : level === 'warning' ? 'warning' : 'info',
        file: sarifFile(str(art.uri), cwd),
        line: num(region.startLine),
        column: num(region.startColumn),
        rule: str(r.ruleId) ?? indexed,
        message: isRec(r.message) ? (str(r.message.text) ?? str(r.message.markdown) ?? '') : '',
      });
    }
  }
  return { ok: true, issues };
}

/** `exit-code`: zero is clean, anything else is one finding carrying the output's last line. */
export function parseExitCode(tool: string, out: ToolOutput): Parsed {
  if (out.exitCode === 0) return { ok: true, issues: [] };
  const lines = `${out.stdout}\n${out.stderr}`.trim().split('\n');
  return {
    ok: true,
    issues: [
      {
        tool,
        severity: 'error',
        file: null,
        message: `exit ${out.exitCode ?? 'none'}${lines.at(-1) ? `: ${lines.at(-1)!.trim()}` : ''}`,
      },
    ],
  };
}

/** Reads one tool's output in its format; `report` is the SARIF/JSON text when it went to a file. */
export function parseOutput(
  format: OutputFormat,
  tool: string,
  out: ToolOutput,
  cwd: string,
  report?: string,
): Parsed {
  const o = report === undefined ? out : { ...out, stdout: report };
  switch (format) {
    case 'eslint-json':
      return parseEslintJson(tool, o, cwd);
    case 'tsc':
      return parseTsc(tool, o, cwd);
    case 'ruff-json':
      return parseRuffJson(tool, o, cwd);
    case 'prettier-check':
      return parsePrettierCheck(tool, o);
    case 'sarif':
      return parseSarif(tool, o.stdout, out, cwd);
    case 'exit-code':
      return parseExitCode(tool, out);
  }
}
