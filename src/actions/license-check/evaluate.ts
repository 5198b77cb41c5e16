/**
 * Whether a licence expression meets the policy. A licence id is permitted when it is allowed
 * (no `allow` list: every id is) and not denied; `A OR B` needs one permitted side, `A AND B`
 * both. Matching of one id against a list is spdx-satisfies' (so `GPL-2.0+` ranges work).
 */
import type parse from 'spdx-expression-parse';
import satisfies from 'spdx-satisfies';

export interface Policy {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
}

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

type Leaf = parse.LicenseInfo;

function leafText(l: Leaf): string {
  return `${l.license}${l.plus ? '+' : ''}${l.exception ? ` WITH ${l.exception}` : ''}`;
}

function matches(leaf: Leaf, list: readonly string[]): boolean {
  const text = leafText(leaf);
  return list.some((entry) => {
    if (entry === text) return true;
    try {
      return satisfies(text, [entry]);
    } catch {
      // LicenseRef-… ids: only the exact text matches
      return false;
    }
  });
}

function leaves(t: parse.Info): Leaf[] {
  return 'conjunction' in t ? [...leaves(t.left), ...leaves(t.right)] : [t];
}

export function evaluate(tree: parse.Info, policy: Policy): Verdict {
  const permitted = (t: parse.Info): boolean => {
    if ('conjunction' in t)
      return t.conjunction === 'or'
        ? permitted(t.left) || permitted(t.right)
        : permitted(t.left) && permitted(t.right);
    const allowed = !policy.allow || matches(t, policy.allow);
    return allowed && !(policy.deny && matches(t, policy.deny));
  };
  if (permitted(tree)) return { ok: true };
  const denied = policy.deny ? leaves(tree).filter((l) => matches(l, policy.deny!)) : [];
  if (denied.length > 0)
    return { ok: false, reason: `denied: ${[...new Set(denied.map(leafText))].join(', ')}` };
  const missing = leaves(tree).filter((l) => !matches(l, policy.allow ?? []));
  return { ok: false, reason: `not allowed: ${[...new Set(missing.map(leafText))].join(', ')}` };
}
