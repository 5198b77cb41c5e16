/**
 * age encryption of backup copies (https://age-encryption.org/v1), with the `age-encryption`
 * package: the files are the standard binary age format, so `age -d -i key` reads what caretaker
 * writes and caretaker reads what `age -r …` wrote. Hosts that make backups need only the public
 * recipients; verify and restore take an identity (a key file as `age-keygen` writes it).
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Decrypter, Encrypter } from 'age-encryption';

/** An identity or recipient that cannot be used, or a file that does not decrypt with it. */
export class AgeError extends Error {
  override name = 'AgeError';
}

const RECIPIENT = /^age1[0-9a-z]+$/;
const IDENTITY = /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/;

/** Lines of a recipients or identity file without comments and blank lines. */
function keyLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export function parseRecipients(list: readonly string[], where: string): string[] {
  for (const r of list) {
    let valid = RECIPIENT.test(r);
    try {
      if (valid) new Encrypter().addRecipient(r); // checks the bech32 encoding and key length
    } catch {
      valid = false;
    }
    if (!valid)
      throw new AgeError(
        `${where}: ${r.slice(0, 12)}… is not an age recipient (expected age1…, as age-keygen -y prints)`,
      );
  }
  if (list.length === 0) throw new AgeError(`${where}: no recipients`);
  return [...list];
}

export function readRecipientsFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgeError(
      `recipients_file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  return parseRecipients(keyLines(text), `recipients_file ${path}`);
}

/** Identities from the text of a key file; the message never shows key material. */
export function parseIdentities(text: string, where: string): string[] {
  const ids = keyLines(text);
  if (ids.length === 0 || !ids.every((l) => IDENTITY.test(l)))
    throw new AgeError(
      `${where} holds no age identity (expected AGE-SECRET-KEY-1… lines, as age-keygen writes)`,
    );
  return ids;
}

export function readIdentityFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgeError(
      `identity file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  return parseIdentities(text, `identity file ${path}`);
}

/** `input` encrypted to the recipients, as a stream. */
export async function encryptStream(input: Readable, recipients: readonly string[]): Promise<Readable> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
  const out = await e.encrypt(web);
  return Readable.fromWeb(out as unknown as WebReadableStream<Uint8Array>);
}

export async function encryptBytes(data: Uint8Array, recipients: readonly string[]): Promise<Buffer> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return Buffer.from(await e.encrypt(data));
}

function decryptFailure(err: unknown, what: string): AgeError {
  const msg = (err as Error).message ?? String(err);
  if (/no identity matched/i.test(msg))
    return new AgeError(`${what}: none of the given identities can decrypt it (wrong key?)`);
  return new AgeError(`${what} does not decrypt: ${msg.split('\n')[0]}`);
}

/** The plaintext of an age stream; the header is checked before this resolves. */
export async function decryptStream(
  input: Readable,
  identities: readonly string[],
  what: string,
): Promise<Readable> {
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
  let out: ReadableStream<Uint8Array>;
  try {
    out = await d.decrypt(web);
  } catch (err) {
    input.destroy();
    throw decryptFailure(err, what);
  }
  const node = Readable.fromWeb(out as unknown as WebReadableStream<Uint8Array>);
  // A damaged chunk fails mid-stream: say which file.
  const wrapped = new Readable({ read() {} });
  node.on('data', (c: Buffer) => {
    if (!wrapped.push(c)) node.pause();
  });
  wrapped._read = () => node.resume();
  node.on('end', () => wrapped.push(null));
  node.on('error', (err) => wrapped.destroy(decryptFailure(err, what)));
  return wrapped;
}

export async function decryptBytes(
  data: Uint8Array,
  identities: readonly string[],
  what: string,
): Promise<Buffer> {
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  try {
    return Buffer.from(await d.decrypt(data));
  } catch (err) {
    throw decryptFailure(err, what);
  }
}
