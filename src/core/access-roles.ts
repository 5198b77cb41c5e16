/**
 * Who may do what over the API, as pure rules: three roles, each allowed what the roles before it
 * are (viewer reads; operator also runs, cancels, pauses, resumes and restores; admin also
 * reloads, stops and manages tokens), and what a token's name may be.
 */
export const TOKEN_ROLES = ['viewer', 'operator', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export function isTokenRole(value: unknown): value is TokenRole {
  return typeof value === 'string' && (TOKEN_ROLES as readonly string[]).includes(value);
}

/** Does a token of role `have` pass an endpoint that needs `need`? */
export function roleAllows(have: TokenRole, need: TokenRole): boolean {
  return TOKEN_ROLES.indexOf(have) >= TOKEN_ROLES.indexOf(need);
}

/** The role just below `role` (undefined below viewer: no token at all). */
export function roleBelow(role: TokenRole): TokenRole | undefined {
  return TOKEN_ROLES[TOKEN_ROLES.indexOf(role) - 1];
}

/** A token's name: shown in the audit log as the actor, so short and plain. */
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const TOKEN_NAME_HINT =
  'letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit';

/** `token list` and `status` warn about a token that expires within this. */
export const TOKEN_EXPIRY_WARNING_MS = 7 * 86_400_000;

/** `last_used_at` is written at most this often per token (a busy dashboard is not a write per request). */
export const TOKEN_TOUCH_EVERY_MS = 60_000;
