/** Sampled values: what a health run measured (the store keeps them, forecasts read them). */

/** One measured value of a health run (or any action that reports samples). */
export interface SampleInput {
  /** Stable within the task, e.g. `disk:root:used_bytes`. */
  readonly key: string;
  readonly value: number;
  readonly unit?: string;
  /** Which way is good, for trend labels. */
  readonly better?: 'lower' | 'higher';
}

export interface SamplePoint {
  readonly at: number;
  readonly value: number;
}
