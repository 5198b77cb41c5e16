/** `caretaker hosts`: the fleet as the store knows it. */
import { openCaretaker, printJson, type GlobalOptions, type Io } from '../context.js';
import { relative, table } from '../format.js';

export async function hostsCommand(opts: GlobalOptions, io: Io): Promise<number> {
  const caretaker = await openCaretaker(opts, { readonly: true });
  try {
    const hosts = await caretaker.hosts();
    if (opts.json) {
      printJson(io, hosts);
      return 0;
    }
    if (hosts.length === 0) {
      io.out(
        caretaker.config.store.kind === 'sqlite'
          ? "the history is on SQLite, this host's own: a fleet shares a PostgreSQL store (store: postgres://…), where each daemon registers"
          : 'no host has registered yet: a host registers when its daemon starts (caretaker start)',
      );
      return 0;
    }
    const now = Date.now();
    io.out(
      table(
        ['HOST', 'STATE', 'LAST SEEN', 'RUNNING', 'VERSION', 'PID', 'STARTED', 'TASKS'],
        hosts.map((h) => [
          h.name,
          h.state,
          relative(h.lastSeenAt, now),
          String(h.running),
          h.version,
          String(h.pid),
          relative(h.startedAt, now),
          String(h.tasks.length),
        ]),
      ),
    );
    return 0;
  } finally {
    await caretaker.close();
  }
}
