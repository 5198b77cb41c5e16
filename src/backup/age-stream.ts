/**
 * age encryption of backup copies (https://age-encryption.org/v1), with the `age-encryption`
 * package: the files are the standard binary age format, so `age -d -i key` reads what caretaker
 * writes and caretaker reads what `age -r …` wrote. Hosts that make backups need only the public
 * recipients; verify and restore take an identity (a key file as `age-keygen` writes it).
 */
import { readFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
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

/** The age payload: 64 KiB chunks, each with a 16-byte Poly1305 tag. */
const CHUNK = 64 * 1024;
const TAG = 16;
const SEALED = CHUNK + TAG;
/** An age header is a few lines per recipient; far past this it is not one. */
const MAX_HEADER = 1024 * 1024;

/**
 * The header of an age file (up to and including its `--- MAC` line), and the bytes after it.
 * undefined while more is needed.
 */
function splitHeader(buf: Buffer): { header: Buffer; rest: Buffer } | undefined {
  const mac = buf.indexOf('\n--- ');
  if (mac < 0) return undefined;
  const end = buf.indexOf(0x0a, mac + 1);
  if (end < 0) return undefined;
  return { header: buf.subarray(0, end + 1), rest: buf.subarray(end + 1) };
}

/**
 * The header of a new age file for `recipients` and its file key. The package writes the header
 * (the X25519 stanzas and the MAC); the file key is taken from the package's own Recipient
 * interface — a recipient object is handed the file key to wrap — by one that wraps it for no
 * one. The package's payload of the empty file made on the way is never used: the payload key
 * comes from a fresh nonce (encryptStream).
 */
async function newHeader(recipients: readonly string[]): Promise<{ header: Buffer; fileKey: Uint8Array }> {
  let fileKey: Uint8Array | undefined;
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  e.addRecipient({
    wrapFileKey(key: Uint8Array) {
      fileKey = key;
      return [];
    },
  });
  const split = splitHeader(Buffer.from(await e.encrypt(new Uint8Array(0))));
  if (!split || !fileKey) throw new AgeError('the age header could not be made');
  return { header: Buffer.from(split.header), fileKey };
}

/** age's STREAM payload sealed with node:crypto's ChaCha20-Poly1305 (see PayloadDecipher). */
class PayloadCipher extends Transform {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #counter = 0;
  constructor(private readonly key: Buffer) {
    super();
  }

  #seal(plain: Buffer, last: boolean): Buffer {
    const nonce = Buffer.alloc(12);
    nonce.writeUIntBE(this.#counter++, 5, 6);
    nonce[11] = last ? 1 : 0;
    const c = createCipheriv('chacha20-poly1305', this.key, nonce, { authTagLength: TAG });
    return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    // A full chunk is sealed only once a byte beyond it came: the last one is sealed as last.
    if (this.#pendingBytes > CHUNK) {
      let buf = Buffer.concat(this.#pending);
      while (buf.length > CHUNK) {
        this.push(this.#seal(buf.subarray(0, CHUNK), false));
        buf = buf.subarray(CHUNK);
      }
      this.#pending = [buf];
      this.#pendingBytes = buf.length;
    }
    done();
  }

  override _flush(done: () => void): void {
    this.push(this.#seal(Buffer.concat(this.#pending), true));
    done();
  }
}

/**
 * `input` encrypted to the recipients, as a stream: the header by the package, the payload
 * sealed natively (the package's pure-JS cipher ran at 40–170 MiB/s here, node:crypto's at the
 * speed of the age CLI).
 */
export async function encryptStream(input: Readable, recipients: readonly string[]): Promise<Readable> {
  const { header, fileKey } = await newHeader(recipients);
  const nonce = randomBytes(16);
  const cipher = new PayloadCipher(Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32)));
  cipher.push(Buffer.concat([header, nonce]));
  input.on('error', (err) => cipher.destroy(err));
  return input.pipe(cipher);
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

/**
 * age's STREAM payload decrypted with node:crypto's ChaCha20-Poly1305 (native: about ten times
 * the pure-JS cipher of the package). Chunk i has nonce = i as 11 bytes big-endian, then 1 for
 * the last chunk, 0 before; a chunk is known to be the last only at the end of the input.
 */
class PayloadDecipher extends Transform {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #counter = 0;
  constructor(private readonly key: Buffer) {
    super();
  }

  #open(sealed: Buffer, last: boolean): Buffer {
    if (sealed.length < TAG) throw new Error('the last chunk is shorter than its tag (truncated)');
    const nonce = Buffer.alloc(12);
    nonce.writeUIntBE(this.#counter++, 5, 6);
    nonce[11] = last ? 1 : 0;
    const d = createDecipheriv('chacha20-poly1305', this.key, nonce, { authTagLength: TAG });
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    try {
      return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
    } catch {
      throw new Error(`chunk ${this.#counter - 1} does not authenticate (damaged or truncated)`);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    try {
      // A full chunk is opened only once a byte beyond it came: until then it may be the last.
      if (this.#pendingBytes > SEALED) {
        let buf = Buffer.concat(this.#pending);
        while (buf.length > SEALED) {
          this.push(this.#open(buf.subarray(0, SEALED), false));
          buf = buf.subarray(SEALED);
        }
        this.#pending = [buf];
        this.#pendingBytes = buf.length;
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: (err?: Error | null) => void): void {
    try {
      const last = this.#open(Buffer.concat(this.#pending), true);
      if (last.length === 0 && this.#counter > 1) throw new Error('the last chunk is empty');
      this.push(last);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

/**
 * The plaintext of an age stream; the header is checked before this resolves. The header (the
 * file key unwrapped with the identities, its MAC) is the package's (`decryptHeader`); the
 * payload is decrypted natively (PayloadDecipher).
 */
export async function decryptStream(
  input: Readable,
  identities: readonly string[],
  what: string,
): Promise<Readable> {
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  let head = Buffer.alloc(0);
  let split: { header: Buffer; rest: Buffer } | undefined;
  let fileKey: Uint8Array;
  try {
    for await (const chunk of input.iterator({ destroyOnReturn: false })) {
      head = Buffer.concat([head, chunk as Buffer]);
      if ((split = splitHeader(head)) && split.rest.length >= 16) break;
      if (head.length > MAX_HEADER) throw new Error('no age header in its first MiB');
    }
    if (!split) throw new Error('it ends before its age header does');
    if (split.rest.length < 16) throw new Error('it ends before its payload nonce');
    fileKey = await d.decryptHeader(split.header);
  } catch (err) {
    input.destroy();
    throw decryptFailure(err, what);
  }
  const nonce = split.rest.subarray(0, 16);
  const key = Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
  const decipher = new PayloadDecipher(key);
  const wrapped = new PassThrough();
  // A damaged chunk fails mid-stream: say which file.
  decipher.on('error', (err) => wrapped.destroy(decryptFailure(err, what)));
  input.on('error', (err) => wrapped.destroy(err));
  wrapped.on('close', () => {
    if (!input.readableEnded) input.destroy();
  });
  decipher.pipe(wrapped);
  if (split.rest.length > 16) decipher.write(split.rest.subarray(16));
  input.pipe(decipher);
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
