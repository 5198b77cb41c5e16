/**
 * s3rver 3.7.1 (our S3 stand-in, test/support/s3rver.ts) stores the parts of a multipart upload
 * but answers ListMultipartUploads with NotImplemented and AbortMultipartUpload with
 * MethodNotAllowed (lib/routes.js), so the clean-up of an interrupted upload could not be tested
 * against it. This adds those two operations in front of it, on its own store: an upload is the
 * directory `<bucket>/._S3rver_uploads/<uploadId>/` holding `key`, `metadata` and the parts, and
 * its initiation time is when `key` was written. Every other request goes to s3rver untouched.
 * Only what caretaker sends is answered (prefix filter, one page, no markers).
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { LoopbackS3 } from '../support/s3rver.js';

export interface PendingUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
  /** Parts stored so far. */
  readonly parts: number;
}

const uploadsDir = (root: string, bucket: string) => join(root, bucket, '._S3rver_uploads');

/** The unfinished multipart uploads s3rver holds in `bucket` (read from its directory). */
export function pendingUploads(root: string, bucket: string): PendingUpload[] {
  const dir = uploadsDir(root, bucket);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((id) => existsSync(join(dir, id, 'key')))
    .map((id) => ({
      key: readFileSync(join(dir, id, 'key'), 'utf8'),
      uploadId: id,
      initiated: statSync(join(dir, id, 'key')).mtime,
      parts: readdirSync(join(dir, id)).filter((f) => /^\d+$/.test(f)).length,
    }));
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Answers ListMultipartUploads and AbortMultipartUpload for `s`, whose data is in `root`. */
export function addMultipartListing(s: LoopbackS3, root: string): void {
  const [koa] = s.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  s.server.removeAllListeners('request');
  // Parts still being written, per upload: an abort removes the upload's directory only once
  // they are done (s3rver writing a part into a directory removed under it throws, uncaught).
  const writing = new Map<string, number>();
  const settled = new Map<string, (() => void)[]>();
  const partDone = (id: string) => {
    const n = (writing.get(id) ?? 1) - 1;
    if (n > 0) return void writing.set(id, n);
    writing.delete(id);
    for (const wake of settled.get(id) ?? []) wake();
    settled.delete(id);
  };
  const noPartsWriting = (id: string) =>
    writing.has(id) ? new Promise<void>((r) => settled.set(id, [...(settled.get(id) ?? []), r])) : undefined;
  s.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://s3');
    const partOf = req.method === 'PUT' ? url.searchParams.get('uploadId') : null;
    if (partOf !== null && url.searchParams.has('partNumber')) {
      writing.set(partOf, (writing.get(partOf) ?? 0) + 1);
      res.once('close', () => partDone(partOf));
    }
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (!/Credential=S3RVER\//.test(req.headers.authorization ?? '')) return koa!(req, res);
    if (req.method === 'GET' && key === '' && url.searchParams.has('uploads')) {
      const prefix = url.searchParams.get('prefix') ?? '';
      const uploads = pendingUploads(root, bucket!).filter((u) => u.key.startsWith(prefix));
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
          `<Bucket>${xml(bucket!)}</Bucket><Prefix>${xml(prefix)}</Prefix><IsTruncated>false</IsTruncated>` +
          uploads
            .map(
              (u) =>
                `<Upload><Key>${xml(u.key)}</Key><UploadId>${xml(u.uploadId)}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
            )
            .join('') +
          `</ListMultipartUploadsResult>`,
      );
      return;
    }
    if (req.method === 'DELETE' && key !== '' && url.searchParams.has('uploadId')) {
      const id = url.searchParams.get('uploadId')!;
      const found = pendingUploads(root, bucket!).find((u) => u.uploadId === id && u.key === key);
      req.resume();
      if (!found) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>',
        );
        return;
      }
      const remove = () => {
        rmSync(join(uploadsDir(root, bucket!), id), { recursive: true, force: true });
        res.writeHead(204);
        res.end();
      };
      const wait = noPartsWriting(id);
      if (wait) void wait.then(remove);
      else remove();
      return;
    }
    koa!(req, res);
  });
}
