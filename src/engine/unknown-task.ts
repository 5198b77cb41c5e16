/** The one message for a task id the configuration does not have. */
import type { Config } from '../config/types.js';
import { didYouMean } from '../core/did-you-mean.js';
import { NotFoundError, type UsageError } from '../errors/usage-error.js';

export function unknownTask(id: string, config: Config): UsageError {
  return new NotFoundError(
    `unknown task "${id}"${didYouMean(
      id,
      config.tasks.map((t) => t.id),
    )}`,
  );
}
