/**
 * Is this an age recipient (`age1…`, as `age-keygen -y` prints)? Checked at config load with
 * bech32 alone (@scure/base, a few ms), not with the age-encryption package (~75 ms to import):
 * a mistyped key fails its checksum here, and the encrypter checks the key itself at run time.
 */
import { bech32 } from '@scure/base';

export function looksLikeAgeRecipient(r: string): boolean {
  if (!/^age1[0-9a-z]+$/.test(r)) return false;
  try {
    const decoded = bech32.decode(r as `${string}1${string}`, 1_000);
    return decoded.prefix.startsWith('age') && bech32.fromWords(decoded.words).length >= 32;
  } catch {
    return false;
  }
}
