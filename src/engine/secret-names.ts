/**
 * The environment variables whose values are secrets: every one the configuration names in a
 * `*_env` key (channels, the heartbeat, the server token, task options). Alerts, the history
 * store and the logs mask their values.
 */
import type { Config } from '../config/types.js';
import { secretEnvNames } from '../notify/channels/channel.js';
import { secretValues } from '../notify/redact.js';
import { urlSecrets } from '../core/redact-url.js';

/** The names of each configuration, found once: the masking store asks at every write. */
const namesOf = new WeakMap<Config, readonly string[]>();

/** Every environment variable the config names in a `*_env` key: their values are secrets. */
export function configSecretEnvNames(config: Config): string[] {
  let names = namesOf.get(config);
  if (!names) namesOf.set(config, (names = findSecretEnvNames(config)));
  return [...names];
}

function findSecretEnvNames(config: Config): string[] {
  const names = new Set<string>([config.server.tokenEnv]);
  for (const c of config.alerting.channels) for (const n of secretEnvNames(c)) names.add(n);
  if (config.alerting.heartbeat.urlEnv) names.add(config.alerting.heartbeat.urlEnv);
  const walk = (v: unknown, key = '') => {
    if (typeof v === 'string' && key.endsWith('_env')) names.add(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x));
    else if (typeof v === 'object' && v !== null)
      for (const [k, x] of Object.entries(v)) {
        // headers_env: { Authorization: API_AUTH } names variables in its values.
        if (k.endsWith('_env') && typeof x === 'object' && x !== null)
          for (const n of Object.values(x)) if (typeof n === 'string') names.add(n);
        walk(x, k);
      }
  };
  for (const t of config.tasks) walk(t.options);
  return [...names];
}

/** The secret values of a configuration, read from the environment now (a rotated one counts). */
export function configSecretValues(config: Config, env: NodeJS.ProcessEnv = process.env): string[] {
  const values = secretValues(configSecretEnvNames(config), env);
  // The store's password (store: postgres://u:pw@… or store_env:) is masked like any other secret.
  if (config.store.kind === 'postgres')
    for (const v of urlSecrets(config.store.url)) if (v.length >= 4 && !values.includes(v)) values.push(v);
  return values.sort((a, b) => b.length - a.length);
}
