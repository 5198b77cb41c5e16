/**
 * GET /metrics of a real daemon on TCP loopback, checked by the real tools: `promtool check
 * metrics` on the endpoint and on the textfile the daemon writes after each run, a real
 * Prometheus server (Debian's `prometheus` package, which .ci/run installs) scraping the daemon
 * and answering `caretaker_task_runs_total` through its HTTP API with the runs made, and
 * `promtool check rules` on the alerting rules of docs/metrics.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cli } from '../support/cli.js';
import { closedPort } from '../support/loopback-servers.js';
import { skipBecause } from '../support/skip-reason.js';
import { tempDir, waitUntil } from '../support/tmp.js';

const has = (tool: string) => spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;
const noPrometheus =
  has('promtool') && has('prometheus')
    ? undefined
    : skipBecause(
        'the Prometheus tests',
        'promtool and prometheus are not installed (apt-get install prometheus; .ci/run does it)',
        { requiredUnderCi: true },
      );

function promtool(args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** The value of the one sample of `series` in an exposition text (undefined when absent). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function query(
  promPort: number,
  q: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as {
    status: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  expect(body.status).toBe('success');
  return body.data.result;
}

describe.skipIf(noPrometheus)('Prometheus metrics of a real daemon', () => {
  it('pass promtool, reach a real Prometheus with the runs made, and land in the textfile after each run', async () => {
    const dir = tempDir('ct-prom-');
    const port = await closedPort();
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1
server: { listen: "127.0.0.1:${port}" }
metrics: { textfile: node-exporter/caretaker.prom }
tasks:
  ok-task: { action: shell, schedule: "@daily", with: { command: "true" } }
  bad-task: { action: shell, with: { command: "exit 3" } }
  disk: { action: health, with: { disk: [{ path: "${dir}", warn: 99%, fail: 100% }] } }
`,
    );
    mkdirSync(join(dir, 'node-exporter'));
    const started = cli(['start', '--daemon'], { cwd: dir });
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    onTestFinished(() => void cli(['stop'], { cwd: dir }));

    expect(cli(['run-task', 'ok-task', '--wait'], { cwd: dir }).code).toBe(0);
    expect(cli(['run-task', 'ok-task', '--wait'], { cwd: dir }).code).toBe(0);
    expect(cli(['run-task', 'bad-task', '--wait'], { cwd: dir }).code).toBe(1);
    expect(cli(['run-task', 'disk', '--wait'], { cwd: dir }).code).toBe(0);

    // The endpoint: on TCP a viewer token (metrics.public is not set), the scraper's content type,
    // promtool's lint clean.
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
    const made = cli(['token', 'create', 'prometheus', '--role', 'viewer'], { cwd: dir });
    expect(made.code).toBe(0);
    const token = made.stdout.trim();
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const lint = promtool(['check', 'metrics'], text);
    expect(lint.out).toBe('');
    expect(lint.code).toBe(0);
    expect(sample(text, 'caretaker_task_runs_total{task="ok-task",status="success"}')).toBe(2);
    expect(sample(text, 'caretaker_task_runs_total{task="ok-task",status="failed"}')).toBe(0);
    expect(sample(text, 'caretaker_task_runs_total{task="bad-task",status="failed"}')).toBe(1);
    expect(sample(text, 'caretaker_task_duration_seconds_count{task="ok-task"}')).toBe(2);
    expect(sample(text, 'caretaker_task_duration_seconds_bucket{task="ok-task",le="+Inf"}')).toBe(2);
    expect(sample(text, `caretaker_health_check_status{task="disk",kind="disk",check="${dir}"}`)).toBe(0);
    // A failing task opened an incident; ok-task's next run is its @daily fire.
    expect(sample(text, 'caretaker_incidents_open')).toBe(1);
    const next = sample(text, 'caretaker_task_next_run_timestamp_seconds{task="ok-task"}')!;
    expect(next % 86_400).toBe(0);
    expect(next * 1000).toBeGreaterThan(Date.now());
    expect(text).toMatch(/^caretaker_build_info\{version="\d+\.\d+\.\d+[^"]*",node="v\d+[^"]*"\} 1$/m);

    // The textfile: written after the last run (atomically: no temp file left), the same metrics.
    const prom = join(dir, 'node-exporter', 'caretaker.prom');
    const file = await waitUntil(() => {
      const t = readFileSync(prom, 'utf8');
      return sample(t, 'caretaker_task_runs_total{task="disk",status="success"}') === 1 ? t : null;
    }, 'the textfile to count the health run');
    expect(promtool(['check', 'metrics'], file)).toEqual({ code: 0, out: '' });
    expect(sample(file, 'caretaker_task_runs_total{task="ok-task",status="success"}')).toBe(2);
    expect(readdirSync(join(dir, 'node-exporter'))).toEqual(['caretaker.prom']);

    // A real Prometheus scraping the daemon every 200 ms.
    const promPort = await closedPort();
    const promDir = tempDir('ct-prom-data-');
    writeFileSync(
      join(promDir, 'prometheus.yml'),
      `global: { scrape_interval: 200ms, scrape_timeout: 200ms }
scrape_configs:
  - job_name: caretaker
    authorization: { type: Bearer, credentials: "${token}" }
    static_configs: [{ targets: ["127.0.0.1:${port}"] }]
`,
    );
    const server = spawn(
      'prometheus',
      [
        `--config.file=${join(promDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let promLog = '';
    server.stderr.on('data', (d: Buffer) => (promLog += d.toString()));
    const exited = new Promise((r) => server.on('exit', r));
    onTestFinished(async () => {
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await exited;
      }
    });

    const seen = await waitUntil(
      async () => {
        if (server.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
        const r = await query(promPort, 'caretaker_task_runs_total{task="ok-task",status="success"}').catch(
          () => [],
        );
        return r.length > 0 ? r : null;
      },
      'Prometheus to scrape the daemon',
      30_000,
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]!.metric).toMatchObject({ job: 'caretaker', instance: `127.0.0.1:${port}` });
    expect(seen[0]!.value[1]).toBe('2');
    const target = await (await fetch(`http://127.0.0.1:${promPort}/api/v1/targets`)).json();
    expect(JSON.stringify(target)).toContain('"health":"up"');

    // One more run: Prometheus sees the counter go up at its next scrape.
    expect(cli(['run-task', 'ok-task', '--wait'], { cwd: dir }).code).toBe(0);
    await waitUntil(
      async () =>
        (await query(promPort, 'caretaker_task_runs_total{task="ok-task",status="success"}'))[0]?.value[1] ===
        '3',
      'Prometheus to see the third run',
      30_000,
    );
    const failing = await query(
      promPort,
      'sum by (task) (caretaker_task_runs_total{status=~"failed|timeout|interrupted"})',
    );
    expect(failing.map((r) => [r.metric.task, r.value[1]]).sort()).toEqual([
      ['bad-task', '1'],
      ['disk', '0'],
      ['ok-task', '0'],
    ]);
  }, 120_000);

  it('the alerting rules of docs/metrics.md pass promtool check rules', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'metrics.md'), 'utf8');
    const block = /```yaml\n(groups:[\s\S]*?)```/.exec(doc);
    expect(block, 'docs/metrics.md has a ```yaml block of rule groups').not.toBeNull();
    const file = join(tempDir('ct-rules-'), 'rules.yml');
    writeFileSync(file, block![1]!);
    const r = promtool(['check', 'rules', file]);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });
});
