/**
 * The steps a rotation is made of. A plan is computed first (it is what a dry run prints), written
 * to the journal, then carried out; each step is written so that replaying it after a crash
 * either finishes it or finds it done — never does it twice.
 */

export interface CreateIds {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export type StepBody =
  /** Creates the directory (and its parents). */
  | { readonly kind: 'mkdir'; readonly path: string; readonly mode: number }
  /**
   * gzip `src` into `dst` through a temp file, verified, then delete `src`. `waitRelease`: the
   * file was just moved aside while a writer may still hold it; compress only once no process
   * has it open for writing (else leave it for the next run).
   */
  | { readonly kind: 'compress'; readonly src: string; readonly dst: string; readonly waitRelease: boolean }
  /** Removes a file (never what a link points to). `ino`, when known, must still match. */
  | { readonly kind: 'delete'; readonly path: string; readonly why: string; readonly ino?: number }
  /** Moves an older generation one place up; `to` did not exist when planned. */
  | { readonly kind: 'rename'; readonly from: string; readonly to: string }
  /**
   * Moves the live log aside. With `create`, an empty log with these ids replaces it without a
   * moment where the name is missing (hard link, then rename over).
   */
  | { readonly kind: 'move'; readonly log: string; readonly to: string; readonly create?: CreateIds }
  /** Copies the log to `to`, catching up with what is appended, then truncates it. */
  | {
      readonly kind: 'copytruncate';
      readonly log: string;
      readonly to: string;
      readonly pausePidfile?: string;
    }
  /** rotate 0 with copytruncate: empty the log in place (logrotate keeps nothing either). */
  | { readonly kind: 'truncate'; readonly log: string }
  | {
      readonly kind: 'script';
      readonly phase: 'prerotate' | 'postrotate';
      readonly script: string;
      readonly arg: string;
    }
  | { readonly kind: 'signal'; readonly pidfile: string; readonly signal: NodeJS.Signals };

export type Step = StepBody & {
  readonly id: number;
  /** The log this step belongs to (or the paths pattern, for shared scripts and signals). */
  readonly log: string;
};

/** Lanes run concurrently (at most `concurrency` at once); the steps of a lane run in order. */
export interface Stage {
  readonly name: string;
  readonly concurrency: number;
  readonly lanes: readonly (readonly Step[])[];
}

export interface Plan {
  readonly version: 1;
  readonly createdAt: number;
  /** How long a compress step with waitRelease waits for writers to let go. */
  readonly releaseWaitMs: number;
  readonly level: number;
  readonly stages: readonly Stage[];
}

const shortMode = (m: number) => `0${(m & 0o7777).toString(8)}`;

/** One line of a dry-run plan per step. */
export function describeStep(s: StepBody): string {
  switch (s.kind) {
    case 'mkdir':
      return `create directory ${s.path} (mode ${shortMode(s.mode)})`;
    case 'compress':
      return `compress ${s.src} -> ${s.dst}${s.waitRelease ? ' (once no writer holds it)' : ''}, then delete ${s.src}`;
    case 'delete':
      return `delete ${s.path} (${s.why})`;
    case 'rename':
      return `rename ${s.from} -> ${s.to}`;
    case 'move':
      return s.create
        ? `move ${s.log} -> ${s.to} and create a new empty ${s.log} (mode ${shortMode(s.create.mode)}, uid ${s.create.uid}, gid ${s.create.gid})`
        : `rename ${s.log} -> ${s.to}`;
    case 'copytruncate':
      return `copy ${s.log} -> ${s.to}, catching up with appended lines, then truncate ${s.log}${s.pausePidfile ? ` (the writer in ${s.pausePidfile} paused for the truncate)` : ''}`;
    case 'truncate':
      return `truncate ${s.log} (rotate 0)`;
    case 'script':
      return `run ${s.phase} script with $1=${s.arg}: ${s.script.trim().split('\n')[0]}${s.script.trim().includes('\n') ? ' ...' : ''}`;
    case 'signal':
      return `send ${s.signal} to the process in ${s.pidfile}`;
  }
}
