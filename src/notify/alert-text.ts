/**
 * How an alert reads in a mail, a Slack message or a terminal: the same facts in each, most
 * important first.
 */
import type { AlertEvent } from './types.js';

const VERB: Record<string, string> = {
  failure: 'FAILED',
  recovery: 'RECOVERED',
  warn: 'WARNING',
  threshold: 'THRESHOLD',
  missed: 'MISSED',
  stuck: 'STUCK',
  anomaly: 'ANOMALY',
  start_failure: 'DID NOT START',
  host_lost: 'HOST LOST',
  store_unavailable: 'STORE UNREACHABLE',
  test: 'TEST',
};

/** "[caretaker] FAILED: backup on web-1" */
export function subjectLine(ev: AlertEvent, prefix = '[caretaker]'): string {
  const repeat = ev.incident?.repeat ? ' (still)' : '';
  return `${prefix} ${VERB[ev.event] ?? ev.event.toUpperCase()}${repeat}: ${ev.title}`.trim();
}

export function plainText(ev: AlertEvent): string {
  const lines = [ev.title, '', ev.message.trimEnd(), ''];
  lines.push(`host: ${ev.host}`, `time: ${ev.at}`);
  if (ev.subject.owner) lines.push(`owner: ${ev.subject.owner}`);
  if (ev.incident) {
    lines.push(
      `incident: #${ev.incident.id} open since ${ev.incident.openedAt} (${ev.incident.occurrences} occurrence${ev.incident.occurrences === 1 ? '' : 's'})`,
    );
  }
  if (ev.run) {
    lines.push(
      `run: #${ev.run.id} ${ev.run.status}${ev.run.exitCode !== null ? `, exit ${ev.run.exitCode}` : ''}`,
    );
    if (ev.run.outputTail) lines.push('', '--- output (tail) ---', ev.run.outputTail.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

const EMOJI: Record<string, string> = {
  failure: ':red_circle:',
  stuck: ':red_circle:',
  missed: ':red_circle:',
  start_failure: ':red_circle:',
  host_lost: ':red_circle:',
  store_unavailable: ':red_circle:',
  recovery: ':large_green_circle:',
  warn: ':large_yellow_circle:',
  threshold: ':large_yellow_circle:',
  anomaly: ':large_yellow_circle:',
  test: ':information_source:',
};

/** Slack incoming-webhook payload: `text` for notifications, blocks for the message. */
export function slackPayload(ev: AlertEvent): Record<string, unknown> {
  const head = `${EMOJI[ev.event] ?? ''} ${subjectLine(ev, '')}`.trim();
  const context = [`host *${ev.host}*`, ev.subject.owner ? `owner *${ev.subject.owner}*` : null, ev.at]
    .filter(Boolean)
    .join(' · ');
  const blocks: Record<string, unknown>[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${escapeSlack(head)}*\n${escapeSlack(ev.message)}` } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: escapeSlack(context) }] },
  ];
  if (ev.run?.outputTail) {
    const tail = ev.run.outputTail.trimEnd().slice(-2_500).replace(/```/g, "'''");
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${tail}\`\`\`` } });
  }
  return { text: head, blocks };
}

function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
