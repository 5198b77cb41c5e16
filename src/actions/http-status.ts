/** `expect_status` as the http action and the health http check both read it. */
import { z } from 'zod';

export const statusSpec = z.union(
  [
    z.number().int().min(100).max(599),
    z.array(z.number().int().min(100).max(599)).min(1),
    z.string().regex(/^[1-5]xx$/),
  ],
  { error: 'expected a status code, a list of them, or a class such as "2xx"' },
);

export type StatusSpec = z.output<typeof statusSpec>;

/** Does `status` match the spec? No spec means any 2xx. */
export function statusMatches(status: number, spec: StatusSpec | undefined): boolean {
  if (spec === undefined) return status >= 200 && status < 300;
  if (typeof spec === 'number') return status === spec;
  if (typeof spec === 'string') return Math.floor(status / 100) === Number(spec[0]);
  return spec.includes(status);
}
