/**
 * The advisories part of audit-deps' summary: one truthful statement per manager. "No advisories"
 * is said only of managers whose advisories were actually fetched; pip has no audit of its own
 * (pip-audit is a separate tool), and npm's may fail to download.
 */
import { SEVERITIES, type Advisory, type Manager, type Severity } from './dep-types.js';

export interface AdvisoryFacts {
  readonly managers: readonly Manager[];
  /** Managers whose advisories could not be fetched (see the warnings). */
  readonly unchecked: readonly Manager[];
  readonly advisories: readonly Advisory[];
  readonly severities: Partial<Record<Severity, number>>;
  readonly failing: number;
  readonly threshold: Severity;
}

export function advisoryStatement(f: AdvisoryFacts): string {
  const audited = f.managers.filter((m) => m !== 'pip' && !f.unchecked.includes(m));
  const notChecked = [
    ...f.unchecked.map((m) => `${m}: see the warnings`),
    ...(f.managers.includes('pip') ? ['pip has no audit'] : []),
  ];
  const parts: string[] = [];
  if (f.advisories.length > 0) {
    const bySeverity = [...SEVERITIES]
      .reverse()
      .filter((s) => f.severities[s])
      .map((s) => `${f.severities[s]} ${s}`)
      .join(', ');
    parts.push(
      `${f.advisories.length} advisor${f.advisories.length === 1 ? 'y' : 'ies'} (${bySeverity}), ${f.failing} at or above ${f.threshold}`,
    );
  } else if (audited.length > 0) {
    // Name the manager when another one was not checked: "no advisories" alone would cover it too.
    parts.push(notChecked.length > 0 ? `no ${audited.join(' or ')} advisories` : 'no advisories');
  }
  if (notChecked.length > 0) {
    const which = f.managers.filter((m) => m === 'pip' || f.unchecked.includes(m));
    parts.push(
      `${parts.length > 0 ? `${which.join(' and ')} ` : ''}advisories not checked (${notChecked.join('; ')})`,
    );
  }
  return parts.join('; ');
}
