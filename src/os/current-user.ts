/** Who runs this process, as a person would name them: the Unix user. */
import { userInfo } from 'node:os';

/** The Unix user of this process; a uid without a passwd entry (a container) is named by number. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER || process.env.LOGNAME || `uid ${process.getuid?.() ?? '?'}`;
  }
}
