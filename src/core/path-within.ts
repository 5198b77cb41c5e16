/** Lexical path containment, shared by everything that keeps work inside a root. */
import { isAbsolute, relative, sep } from 'node:path';

/** Lexical containment: is `child` the same as or inside `parent` (both absolute)? */
export function isWithin(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
