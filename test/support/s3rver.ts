/**
 * An S3-compatible server for the copy tests: `s3rver` (a Koa app over a directory) started in
 * this process on a loopback port. No real S3 server (MinIO, Ceph RGW, AWS) can run on the test
 * machine; s3rver speaks the same HTTP API with SigV4 auth (account S3RVER / S3RVER), including
 * multipart uploads. It does not implement ListMultipartUploads or AbortMultipartUpload.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
}

export interface LoopbackS3 {
  readonly endpoint: string;
  readonly port: number;
  readonly server: Server;
  /** Closes the server, cutting every open connection (a crash, from the client's side). */
  kill(): Promise<void>;
}

export const S3_ENV = { TEST_S3_KEY: 'S3RVER', TEST_S3_SECRET: 'S3RVER' };

export async function startS3(directory: string, buckets: string[], port = 0): Promise<LoopbackS3> {
  const s3 = new (S3rver as new (o: object) => S3rverInstance)({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const addr = await s3.run();
  let closed = false;
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    port: addr.port,
    server: s3.httpServer,
    async kill() {
      if (closed) return;
      closed = true;
      const done = s3.close();
      s3.httpServer.closeAllConnections();
      await done;
    },
  };
}
