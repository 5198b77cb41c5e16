/** Builds the AlertEvent every channel receives from an incident and what caused it. */
import type { IncidentRecord, RunRecord } from '../store/types.js';
import { redact } from './redact.js';
import type { AlertEvent, AlertEventKind, AlertRun, AlertSubject, Severity } from './types.js';

const PHRASE: Record<AlertEventKind, string> = {
  failure: 'failed',
  recovery: 'recovered',
  warn: 'finished with warnings',
  threshold: 'passed a threshold',
  missed: 'missed its deadline',
  stuck: 'timed out',
  anomaly: 'ran unusually',
  start_failure: 'did not start',
  host_lost: 'stopped heartbeating',
  store_unavailable: 'cannot reach its store',
  test: 'sent a test alert',
};

export function severityOf(event: AlertEventKind): Severity {
  if (event === 'recovery' || event === 'test') return 'info';
  if (event === 'warn' || event === 'threshold' || event === 'anomaly') return 'warning';
  return 'critical';
}

const OUTPUT_LINES = 20;

export function alertRun(run: RunRecord, secrets: readonly string[]): AlertRun {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  const tail = run.outputTail
    ? redact(run.outputTail.trimEnd().split('\n').slice(-OUTPUT_LINES).join('\n'), secrets)
    : null;
  return {
    id: run.id,
    status: run.status,
    trigger: run.trigger,
    attempt: run.attempt,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    durationMs: run.durationMs,
    exitCode: run.exitCode,
    summary: run.result?.summary ? redact(run.result.summary, secrets) : null,
    reason: run.reason ? redact(run.reason, secrets) : null,
    outputTail: tail,
  };
}

export function buildEvent(input: {
  event: AlertEventKind;
  subject: AlertSubject;
  host: string;
  now: number;
  message: string;
  incident?: IncidentRecord;
  repeat?: boolean;
  run?: RunRecord;
  details?: Record<string, unknown>;
  secrets: readonly string[];
}): AlertEvent {
  const { event, subject, host, incident } = input;
  const what = subject.kind === 'daemon' ? 'caretaker' : subject.id;
  return {
    event,
    severity: severityOf(event),
    title: `${what} ${PHRASE[event]} on ${host}`,
    message: redact(input.message, input.secrets),
    host,
    at: new Date(input.now).toISOString(),
    subject,
    incident: incident
      ? {
          id: incident.id,
          key: incident.key,
          openedAt: new Date(incident.openedAt).toISOString(),
          occurrences: incident.occurrences,
          repeat: input.repeat ?? false,
        }
      : undefined,
    run: input.run ? alertRun(input.run, input.secrets) : undefined,
    details: input.details,
  };
}
