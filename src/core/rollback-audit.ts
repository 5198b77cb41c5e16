/**
 * The audit row of a rollback restore, the same from the CLI, the API and the dashboard's form:
 * its target is the point's task (what a token limited to some tasks must be allowed to act on,
 * and what `caretaker audit` is searched by), its detail the point, the run that recorded the
 * restore and the reason.
 */
/** `rb-3` or `3` → `rb-3`; undefined when it is not a point id. */
export function pointIdOf(id: string): string | undefined {
  const m = /^(?:rb-)?([1-9]\d{0,8})$/.exec(id.trim());
  return m ? `rb-${Number(m[1])}` : undefined;
}

/** The task of rollback point `id`, undefined when there is no such point. */
export async function pointTask(
  points: { listRollbacks(): Promise<readonly { readonly id: string; readonly task: string | null }[]> },
  id: string,
): Promise<string | undefined> {
  const wanted = pointIdOf(id);
  if (!wanted) return undefined;
  return (await points.listRollbacks()).find((p) => p.id === wanted)?.task ?? undefined;
}

export function restoreDetail(
  point: string,
  run: { readonly id: number; readonly task: string } | null,
  reason: string,
): string {
  const why = `reason: ${reason.replace(/\s+/g, ' ').trim()}`;
  return `${point}${run ? `, run #${run.id} of ${run.task}` : ''}; ${why}`.slice(0, 300);
}
