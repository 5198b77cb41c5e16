// The pretend service's own test suite, run by the demo's test-health task with node's test runner.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const config = readFileSync(new URL('../config/app.yaml', import.meta.url), 'utf8');

test('the service config names a port', () => {
  assert.match(config, /^\s*port:\s*\d+/m);
});

test('the service config names its database', () => {
  assert.match(config, /^\s*path:\s*\S+/m);
});
