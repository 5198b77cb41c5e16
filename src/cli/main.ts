#!/usr/bin/env node
import { runCli } from './program.js';

const code = await runCli(process.argv);
// The only place that ends the process: open handles (a log stream, a socket) must not keep a
// finished command alive.
process.exit(code);
