/** spdx-satisfies 6 ships no types: `satisfies(expression, approved ids)` → is the expression met. */
declare module 'spdx-satisfies' {
  /** Throws when either side is not valid SPDX; `approved` may not hold AND/OR expressions. */
  function satisfies(expression: string, approved: readonly string[]): boolean;
  export = satisfies;
}
