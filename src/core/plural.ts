/** Counts in messages: `1 day`, `2 days`, `1 directory`, `3 directories`. */
export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}
