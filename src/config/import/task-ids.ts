/**
 * Task ids for imported jobs: readable, valid (`^[A-Za-z0-9][A-Za-z0-9_.-]*$`) and unique. Every
 * input job must come out as its own task, so a generated id is checked against every id handed
 * out so far — `foo-2` from one job and `foo`, `foo` from two others must not meet at `foo-2`.
 */

/** Lower-case letters, digits and single dashes; '' when nothing usable is left. */
export function slug(text: string, max = 48): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, max)
    .replace(/[-_]+$/, '');
}

/** Hands out ids: the base when free, else base-2, base-3, … — whichever is not yet taken. */
export class IdAllocator {
  private readonly taken = new Set<string>();

  next(base: string): string {
    if (!this.taken.has(base)) {
      this.taken.add(base);
      return base;
    }
    for (let n = 2; ; n++) {
      const id = `${base}-${n}`;
      if (!this.taken.has(id)) {
        this.taken.add(id);
        return id;
      }
    }
  }
}
