/**
 * The history never holds a secret: every write of text that came from a task or an error
 * (output tails, results — every string in them —, reasons, samples, incident messages, delivery
 * errors, ping messages, cluster claims' reasons) passes through here and has the configuration's secret values replaced
 * by "***" before it reaches the store. One wrapper around the store every writer gets (the
 * engine, manual rollbacks, restores), so a new write path cannot forget it.
 */
import { redact, redactDeep } from '../notify/redact.js';
import type { DeliveryRecord, IncidentRecord, NewRun, PingRecord, RunFinish, Store } from '../store/types.js';

type Secrets = () => readonly string[];

const text = (s: string | null | undefined, secrets: readonly string[]) =>
  typeof s === 'string' ? redact(s, secrets) : s;

/** Per method, the arguments as they are stored. Methods not listed pass through. */
type Masked =
  | 'insertRun'
  | 'insertRuns'
  | 'finishRun'
  | 'recordSamples'
  | 'saveIncident'
  | 'insertDelivery'
  | 'updateDelivery'
  | 'recordPing'
  | 'releaseSlot'
  | 'takeOver'
  | 'appendAudit';
const MASKS: {
  [K in Masked]: (secrets: readonly string[], ...args: Parameters<Store[K]>) => Parameters<Store[K]>;
} = {
  insertRun: (s, run: NewRun) => [{ ...run, reason: text(run.reason, s) }],
  insertRuns: (s, runs: readonly NewRun[]) => [runs.map((run) => ({ ...run, reason: text(run.reason, s) }))],
  finishRun: (s, id, finish: RunFinish) => [id, redactDeep(finish, s)],
  recordSamples: (s, task, at, samples) => [task, at, redactDeep(samples, s)],
  saveIncident: (s, incident: IncidentRecord) => [{ ...incident, message: redact(incident.message, s) }],
  insertDelivery: (s, d: Omit<DeliveryRecord, 'id'>) => [
    { ...d, error: text(d.error, s) ?? null, payload: text(d.payload, s) ?? null },
  ],
  updateDelivery: (s, id, patch) => [
    id,
    {
      ...patch,
      error: text(patch.error, s) ?? null,
      ...(patch.payload !== undefined ? { payload: text(patch.payload, s) ?? null } : {}),
    },
  ],
  recordPing: (s, ping: PingRecord) => [{ ...ping, message: text(ping.message, s) ?? null }],
  // A cluster slot's skip or takeover reason may quote an error.
  releaseSlot: (s, task, slot, instance, outcome) => [
    task,
    slot,
    instance,
    { ...outcome, reason: text(outcome.reason, s) ?? null },
  ],
  takeOver: (s, t) => [{ ...t, reason: redact(t.reason, s) }],
  // A failed change's detail quotes its error.
  appendAudit: (s, e) => [{ ...e, detail: text(e.detail, s) ?? null }],
};

/** The store, with secrets masked in everything written to it. `secrets` is asked at each write. */
export function maskingStore(store: Store, secrets: Secrets): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      const mask = (Object.hasOwn(MASKS, prop) ? MASKS[prop as Masked] : undefined) as
        ((s: readonly string[], ...args: unknown[]) => unknown[]) | undefined;
      // Bound to the store itself: its #private fields are not reachable through the proxy.
      if (!mask) return fn.bind(target);
      return (...args: unknown[]) => {
        const s = secrets();
        return fn.apply(target, s.length === 0 ? args : mask(s, ...args));
      };
    },
  });
}
