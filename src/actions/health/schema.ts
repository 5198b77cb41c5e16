/** The `with:` options of `health`: any number of checks of each kind. */
import { z } from 'zod';
import { duration } from '../../schema/values.js';
import { percent } from '../../schema/thresholds.js';
import { commandCheck } from './command-check.js';
import { cpuCheck, loadCheck } from './cpu.js';
import { postgresCheck, redisCheck } from './datastores.js';
import { diskCheck } from './disk.js';
import { httpCheck } from './http-check.js';
import { jsonFileCheck } from './json-file.js';
import { memoryCheck } from './memory.js';
import { metricsFileCheck } from './metrics-file.js';
import { processCheck } from './process-check.js';
import { tcpCheck } from './tcp.js';
import { tlsCheck } from './tls.js';

/** One check, or a list of them. */
function listOf<S extends z.ZodType>(schema: S) {
  return z
    .union([schema, z.array(schema)], { error: 'expected a check or a list of checks' })
    .transform((v) => (Array.isArray(v) ? v : [v]) as z.output<S>[]);
}

export const schema = z.strictObject({
  disk: listOf(diskCheck.schema).optional().describe('Used %, free bytes and inodes of a filesystem.'),
  memory: listOf(memoryCheck.schema).optional().describe('Used %, available bytes, swap.'),
  cpu: listOf(cpuCheck.schema).optional().describe('Utilisation over a short sample.'),
  load: listOf(loadCheck.schema).optional().describe('Load average per core.'),
  http: listOf(httpCheck.schema).optional().describe('Status, body, JSON value and latency of a URL.'),
  tcp: listOf(tcpCheck.schema).optional().describe('host:port accepts a connection.'),
  tls: listOf(tlsCheck.schema).optional().describe('Certificate expiry, chain and host name.'),
  process: listOf(processCheck.schema).optional().describe('A process is alive; its RSS and CPU.'),
  command: listOf(commandCheck.schema).optional().describe('Any command; its exit code is the status.'),
  postgres: listOf(postgresCheck.schema).optional().describe('Connect and run a query.'),
  redis: listOf(redisCheck.schema).optional().describe('Connect and PING.'),
  json_file: listOf(jsonFileCheck.schema).optional().describe('A value an application writes about itself.'),
  metrics_file: listOf(metricsFileCheck.schema)
    .optional()
    .describe("Stats over an application's own records."),
  forecast: z
    .strictObject({
      days: z.number().int().min(1).max(365).optional().describe('Samples fitted. @default 14'),
      horizon: duration().optional().describe('A disk full sooner than this is a warning. @default 14d'),
    })
    .optional(),
  trends: z
    .strictObject({
      days: z.number().int().min(1).max(365).optional().describe('Window compared, halves. @default 7'),
      threshold: percent().optional().describe('Change that counts. @default 20%'),
    })
    .optional(),
});
