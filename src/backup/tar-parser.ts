/**
 * A push parser for tar streams: feed it chunks of any size, it calls back once per entry and
 * once per piece of entry data, synchronously. Headers are decoded by the `tar` package (ustar,
 * pax `x`/`g`, GNU long names `L`/`K`); this class only finds the blocks, which keeps reading
 * fast for archives of many small files and lets the caller see every entry exactly as stored —
 * including the hostile ones a restore must refuse.
 */
import { Header, Pax, type HeaderData } from 'tar';

export interface TarEntry {
  readonly path: string;
  /** The `tar` package's type names: File, Directory, SymbolicLink, Link, CharacterDevice, … */
  readonly type: string;
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly uid: number;
  readonly gid: number;
  readonly linkpath: string;
}

export interface TarVisitor {
  entry(e: TarEntry): void;
  data(chunk: Buffer): void;
  entryEnd(): void;
}

export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

const META_TYPES = new Set([
  'ExtendedHeader',
  'GlobalExtendedHeader',
  'NextFileHasLongPath',
  'OldGnuLongPath',
  'NextFileHasLongLinkpath',
]);

const MAX_META = 1024 * 1024;

export class TarParser {
  readonly #header = Buffer.alloc(512);
  #headerFill = 0;
  #state: 'header' | 'data' | 'meta' | 'pad' | 'end' = 'header';
  #remaining = 0;
  #pad = 0;
  #meta: Buffer[] = [];
  #metaType = '';
  #pax: HeaderData | undefined;
  #globalPax: HeaderData | undefined;
  #longPath: string | undefined;
  #longLink: string | undefined;
  /** The entry being read (for error messages), or the last one read. */
  current: string | undefined;
  entries = 0;

  constructor(private readonly visitor: TarVisitor) {}

  get ended(): boolean {
    return this.#state === 'end';
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && this.#state !== 'end') {
      if (this.#state === 'header') {
        const n = Math.min(512 - this.#headerFill, chunk.length - off);
        // Most headers sit whole inside one chunk: decode them in place, without a copy.
        if (this.#headerFill === 0 && n === 512) this.#onHeader(chunk, off);
        else {
          chunk.copy(this.#header, this.#headerFill, off, off + n);
          this.#headerFill += n;
          if (this.#headerFill === 512) {
            this.#headerFill = 0;
            this.#onHeader(this.#header, 0);
          }
        }
        off += n;
      } else if (this.#state === 'data' || this.#state === 'meta') {
        const n = Math.min(this.#remaining, chunk.length - off);
        const piece = chunk.subarray(off, off + n);
        if (this.#state === 'data') this.visitor.data(piece);
        else this.#meta.push(Buffer.from(piece));
        this.#remaining -= n;
        off += n;
        if (this.#remaining === 0) this.#endBody();
      } else {
        const n = Math.min(this.#pad, chunk.length - off);
        this.#pad -= n;
        off += n;
        if (this.#pad === 0) this.#state = 'header';
      }
    }
  }

  /** Throws when the stream stopped in the middle of an entry or before the end marker. */
  finish(): void {
    if (this.#state === 'end') return;
    if (this.#state === 'header' && this.#headerFill === 0 && this.entries > 0)
      throw new TarFormatError(
        `archive ends without the end-of-archive marker after ${this.current ?? 'the start'}`,
      );
    throw new TarFormatError(`archive is truncated inside ${this.current ?? 'its first header'}`);
  }

  #onHeader(buf: Buffer, off: number): void {
    let zero = true;
    for (let i = off; i < off + 512; i++)
      if (buf[i] !== 0) {
        zero = false;
        break;
      }
    if (zero) {
      // The end-of-archive marker (two zero blocks; one is accepted, as GNU tar does).
      this.#state = 'end';
      return;
    }
    if (!this.#pax && !this.#globalPax && !this.#longPath && !this.#longLink) {
      const plain = decodePlainUstar(buf, off);
      if (plain) return this.#onEntry(plain);
    }
    let h: Header;
    try {
      h = new Header(buf, off, this.#pax, this.#globalPax);
    } catch (err) {
      // Damaged bytes can make a header field unreadable (tar throws on an out-of-range number):
      // that is a broken archive at this place, not a crash of the verifier.
      throw new TarFormatError(
        `unreadable tar header after ${this.current ?? 'the start'}: ${(err as Error).message}`,
      );
    }
    if (!h.cksumValid) throw new TarFormatError(`invalid tar header after ${this.current ?? 'the start'}`);
    const type = h.type;
    // tar's Header leaves a size it cannot read (a negative base-256 number) undefined; taken as 0
    // it would read as an empty file and shift every entry after it. GNU tar refuses it.
    if (h.size === undefined && !blankField(buf, off + 124, 12))
      throw new TarFormatError(
        `invalid size (${describeSizeField(buf, off + 124)}) in the tar header ${h.path ? `of ${h.path} ` : ''}after ${this.current ?? 'the start'}`,
      );
    const size = h.size ?? 0;
    if (META_TYPES.has(type)) {
      // A hostile archive could announce a gigabyte of "path name": refuse rather than buffer it.
      if (size > MAX_META)
        throw new TarFormatError(
          `oversized ${type} header (${size} bytes) after ${this.current ?? 'the start'}`,
        );
      this.#metaType = type;
      this.#meta = [];
      this.#remaining = size;
      this.#pad = (512 - (size % 512)) % 512;
      this.#state = 'meta';
      if (size === 0) this.#endBody();
      return;
    }
    // Directories are stored as `dir/`; entries are named without the slash, as in manifests.
    // A pax path wins over the header's (whose ustar prefix Header.decode may have prepended).
    const raw = this.#longPath ?? this.#pax?.path ?? h.path ?? '';
    const path = raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
    const linkpath = this.#longLink ?? this.#pax?.linkpath ?? h.linkpath ?? '';
    this.#pax = undefined;
    this.#longPath = undefined;
    this.#longLink = undefined;
    this.#onEntry({
      path,
      type,
      size,
      mode: h.mode ?? 0,
      mtimeMs: h.mtime ? h.mtime.getTime() : 0,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      linkpath,
    });
  }

  #onEntry(e: TarEntry): void {
    this.current = e.path;
    this.entries++;
    this.visitor.entry(e);
    const size = e.size;
    this.#remaining = size;
    this.#pad = (512 - (size % 512)) % 512;
    this.#state = 'data';
    if (size === 0) this.#endBody();
  }

  #endBody(): void {
    if (this.#state === 'meta') {
      const body = Buffer.concat(this.#meta).toString('utf8');
      this.#meta = [];
      if (this.#metaType === 'ExtendedHeader' || this.#metaType === 'GlobalExtendedHeader') {
        // tar's Pax drops a size= it cannot read; the entry would then take the header's size.
        const bad = /(?:^|\n)\d+ size=(?!\d+\n)([^\n]*)/.exec(body);
        if (bad)
          throw new TarFormatError(
            `invalid size (${bad[1]!.slice(0, 40)}) in a pax header after ${this.current ?? 'the start'}`,
          );
      }
      if (this.#metaType === 'ExtendedHeader') this.#pax = Pax.parse(body, this.#pax);
      else if (this.#metaType === 'GlobalExtendedHeader')
        this.#globalPax = Pax.parse(body, this.#globalPax, true);
      else if (this.#metaType === 'NextFileHasLongLinkpath') this.#longLink = body.replace(/\0.*$/s, '');
      else this.#longPath = body.replace(/\0.*$/s, '');
    } else this.visitor.entryEnd();
    this.#state = this.#pad > 0 ? 'pad' : 'header';
  }
}

const PLAIN_TYPES: Record<number, string> = {
  0x30: 'File',
  0x00: 'File',
  0x35: 'Directory',
  0x32: 'SymbolicLink',
};

function octal(buf: Buffer, start: number, len: number): number | undefined {
  let i = start;
  const end = start + len;
  while (i < end && buf[i] === 0x20) i++;
  let n = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return undefined; // base-256 or garbage: leave it to Header
    n = n * 8 + (c - 0x30);
    digits++;
  }
  return digits > 0 ? n : undefined;
}

function cString(buf: Buffer, start: number, len: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul < 0 || nul > start + len ? start + len : nul);
}

/**
 * The common case decoded without the general `Header` (which costs a noticeable share of a
 * verify of 100,000 small files): a ustar header of a file, directory or symlink with octal
 * fields and no extension headers pending. Anything else returns undefined and goes to Header.
 */
function decodePlainUstar(buf: Buffer, off: number): TarEntry | undefined {
  const type = PLAIN_TYPES[buf[off + 156]!];
  // "ustar\0" + "00", and a prefix shorter than 130 bytes (longer ones may be star-style).
  if (!type || buf.readUInt32BE(off + 257) !== 0x75737461 || buf[off + 261] !== 0x72 || buf[off + 262] !== 0)
    return undefined;
  if (buf[off + 263] !== 0x30 || buf[off + 264] !== 0x30 || buf[off + 345 + 129] !== 0) return undefined;
  const cksum = octal(buf, off + 148, 8);
  let sum = 8 * 0x20;
  for (let i = off; i < off + 148; i++) sum += buf[i]!;
  for (let i = off + 156; i < off + 512; i++) sum += buf[i]!;
  if (cksum !== sum) return undefined; // Header reports it as invalid
  const mode = octal(buf, off + 100, 8);
  const uid = octal(buf, off + 108, 8);
  const gid = octal(buf, off + 116, 8);
  const size = octal(buf, off + 124, 12);
  const mtime = octal(buf, off + 136, 12);
  if (mode === undefined || size === undefined || mtime === undefined) return undefined;
  const name = cString(buf, off, 100);
  const prefix = buf[off + 345] === 0 ? '' : cString(buf, off + 345, 155);
  const full = prefix ? `${prefix}/${name}` : name;
  const dir = type === 'Directory' || (type === 'File' && full.endsWith('/'));
  return {
    path: full.length > 1 ? full.replace(/\/+$/, '') : full,
    type: dir ? 'Directory' : type,
    size: dir ? 0 : size,
    mode,
    mtimeMs: mtime * 1000,
    uid: uid ?? 0,
    gid: gid ?? 0,
    linkpath: type === 'SymbolicLink' ? cString(buf, off + 157, 100) : '',
  };
}

/** A numeric field of NULs and spaces only: an empty value, which tar reads as 0. */
function blankField(buf: Buffer, start: number, len: number): boolean {
  for (let i = start; i < start + len; i++) if (buf[i] !== 0 && buf[i] !== 0x20) return false;
  return true;
}

/** A size field tar could not read, for the message: the base-256 value when it is one. */
function describeSizeField(buf: Buffer, start: number): string {
  if (buf[start]! & 0x80) {
    // Base-256, two's complement when the first byte is 0xff.
    let v = 0n;
    for (let i = start; i < start + 12; i++) v = (v << 8n) | BigInt(i === start ? buf[i]! & 0x7f : buf[i]!);
    if (buf[start] === 0xff) v -= 1n << 95n;
    return v.toString();
  }
  return JSON.stringify(buf.toString('latin1', start, start + 12).replace(/\0+$/, ''));
}
