/**
 * Fault hook for the crash tests (CONVENTIONS: an env-var-gated hook the test sets, not a config
 * option). `CARETAKER_FAULT_RETENTION=after-archive:3` stalls the run at batch 3 once its archive
 * is durable but before the DELETE; `after-delete:3` once the DELETE committed but before the
 * archive got its final name. The test then kills the process with SIGKILL at exactly that point.
 */
export type FaultPoint = 'after-archive' | 'after-delete';

export async function faultPoint(point: FaultPoint, batch: number, signal: AbortSignal): Promise<void> {
  const spec = process.env.CARETAKER_FAULT_RETENTION;
  if (spec !== `${point}:${batch}`) return;
  process.stderr.write(`caretaker fault hook: stalled at batch ${batch}, ${point}\n`);
  await new Promise<void>((_resolve, reject) => {
    const keepAlive = setInterval(() => {}, 60_000); // an idle SQLite run holds no socket open
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(keepAlive);
        reject(new Error(`stalled by fault hook ${spec}`));
      },
      { once: true },
    );
  });
}
