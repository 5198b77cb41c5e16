/**
 * The rotating slice of `subset: 1/N` (restic's --read-data-subset): an archive belongs to the
 * slice its name hashes to, so it stays in the same slice while others come and go, and N runs
 * cover every archive once — the local ones and a copy's alike (the same counter, saved in the
 * task's state dir, picks the slice on both sides).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fnv1a } from '../../core/stable-hash.js';
import { writeFileAtomicSync } from '../../os/atomic-write.js';
import type { ActionContext } from '../types.js';

export interface Slice {
  /** 0-based. */
  readonly index: number;
  readonly parts: number;
}

const FILE = 'verify-subset.json';

/** This run's slice of `subset` (`1/N`), from the counter the last run saved. */
export function currentSlice(ctx: ActionContext, subset: string): Slice {
  const parts = Number(subset.slice(2));
  let index = 0;
  try {
    const s = JSON.parse(readFileSync(join(ctx.taskStateDir, FILE), 'utf8')) as { next?: unknown };
    if (typeof s.next === 'number' && Number.isInteger(s.next)) index = ((s.next % parts) + parts) % parts;
  } catch {
    // no counter yet: the first slice
  }
  return { index, parts };
}

export function saveNextSlice(ctx: ActionContext, s: Slice): void {
  mkdirSync(ctx.taskStateDir, { recursive: true });
  writeFileAtomicSync(join(ctx.taskStateDir, FILE), `${JSON.stringify({ next: s.index + 1 })}\n`);
}

export function inSlice<T extends { readonly name: string }>(items: readonly T[], s: Slice): T[] {
  return items.filter((a) => fnv1a(a.name) % s.parts === s.index);
}

export function sliceText(s: Slice): string {
  return `slice ${s.index + 1}/${s.parts}`;
}
