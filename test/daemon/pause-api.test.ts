/** The pause routes of the HTTP API (fastify's inject, on a caretaker with a manual clock). */
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/server/api.js';
import { harness, MIN, T0 } from '../support/engine-harness.js';

describe('API: POST /v1/tasks/:id/pause and /resume, GET /v1/pauses', () => {
  it('pauses with who and why, lists it, refuses bad bodies and unknown tasks, resumes', async () => {
    const h = await harness('  job: { action: gate, schedule: "* * * * *", with: { outcome: ok } }\n');
    const app = buildApi(h.ct);
    try {
      const bad = await app.inject({ method: 'POST', url: '/v1/tasks/job/pause', payload: { reason: 5 } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ exitCode: 2, error: 'reason: expected a string, got number' });
      const unknown = await app.inject({ method: 'POST', url: '/v1/tasks/jo/pause', payload: {} });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ exitCode: 2, error: 'unknown task "jo" (did you mean "job"?)' });
      expect((await h.ct.pauses()).length).toBe(0);

      const ok = await app.inject({
        method: 'POST',
        url: '/v1/tasks/job/pause',
        payload: { reason: 'disk swap', by: 'alice' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({
        paused: true,
        record: { task: 'job', by: 'alice', reason: 'disk swap', at: T0 },
      });
      expect((await app.inject({ method: 'GET', url: '/v1/pauses' })).json()).toEqual([
        { task: 'job', by: 'alice', reason: 'disk swap', at: T0 },
      ]);
      const status = (await app.inject({ method: 'GET', url: '/v1/status' })).json() as { paused: unknown[] };
      expect(status.paused).toHaveLength(1);
      // The engine in this process holds the task back at once.
      await h.advanceTo(T0 + MIN);
      expect((await h.runs('job')).map((r) => r.reason)).toEqual(['paused by alice: disk swap']);

      const resumed = await app.inject({ method: 'POST', url: '/v1/tasks/job/resume' });
      expect(resumed.json()).toMatchObject({ resumed: true, record: { by: 'alice' } });
      await h.advanceTo(T0 + 2 * MIN);
      expect((await h.runs('job')).map((r) => r.status)).toEqual(['skipped', 'success']);
    } finally {
      await app.close();
    }
  });
});
