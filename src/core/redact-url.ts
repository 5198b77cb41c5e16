/**
 * Connection URLs (postgres://user:secret@host/db, redis://:secret@host) carry passwords. Anything
 * caretaker prints, logs or stores — summaries, warnings, details, plans, error messages — goes
 * through these first, so a password never reaches history, the dashboard or an alert.
 */

/** The URL with its password (and any `password=` query parameter) replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    // Not a URL we can parse: hide whatever sits between "://user:" and "@".
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/** The secrets a URL carries (password, secret query values), for scrubbing free text. */
export function urlSecrets(url: string): string[] {
  const secrets: string[] = [];
  try {
    const u = new URL(url);
    if (u.password) secrets.push(u.password, decodeURIComponent(u.password));
    for (const [key, value] of u.searchParams)
      if (/pass|secret|token/i.test(key) && value) secrets.push(value);
  } catch {
    const m = /\/\/[^:/@]*:([^@]*)@/.exec(url);
    if (m?.[1]) secrets.push(m[1]);
  }
  return [...new Set(secrets.filter((s) => s.length > 0))];
}

/**
 * Removes every occurrence of the URL (as given) and of its secrets from a message, e.g. a driver
 * error that echoes the connection string.
 */
export function scrubSecrets(text: string, url: string | undefined): string {
  if (!url) return text;
  let out = text.split(url).join(redactUrl(url));
  for (const secret of urlSecrets(url)) out = out.split(secret).join('***');
  return out;
}
