/**
 * The command line. Each command is a thin function in commands/, loaded on demand (so
 * `caretaker status` does not pay for the daemon's HTTP server); this file wires flags to them and
 * turns errors into one clear line and an exit code: 0 ok, 1 a task or check failed, 2 bad usage
 * or configuration.
 */
import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../version.js';
import { stdio, type GlobalOptions, type Io } from './context.js';
import { failWith, reportFailure } from './failure.js';

type Opts = GlobalOptions & Record<string, unknown>;
type Handler = (opts: Opts, io: Io, ...args: (string | undefined)[]) => Promise<number>;

const daemon = () => import('./commands/daemon.js');
const history = () => import('./commands/history.js');
const tasks = () => import('./commands/tasks.js');
const alerts = () => import('./commands/alerts.js');

export function buildProgram(
  io: Io,
  setCode: (code: number) => void,
  usageError: (message: string) => void = (m) => io.err(`caretaker: ${m}`),
): Command {
  const program = new Command('caretaker')
    .description('Maintenance automation: rotate, prune, watch, check, back up — from one caretaker.yaml.')
    .version(VERSION, '-V, --version')
    .option(
      '-c, --config <path>',
      'the configuration file (default: ./caretaker.yaml, then $CARETAKER_CONFIG)',
    )
    .option('--json', 'machine-readable output')
    .option('--debug', 'show stack traces of internal errors')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      outputError: (s) => usageError(s.replace(/^error: /, '').trim()),
    });

  const wire = (cmd: Command, handler: Handler) =>
    cmd.exitOverride().action(async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const positional = args.slice(0, -2) as (string | undefined)[];
      setCode(await handler(command.optsWithGlobals() as Opts, io, ...positional));
    });

  wire(
    program
      .command('init')
      .description('write a commented caretaker.yaml with the standard maintenance tasks')
      .addOption(
        new Option('--preset <name>', 'standard, web-service, or ci (a code repository)').default('standard'),
      )
      .option('--force', 'overwrite an existing file'),
    async (o, io) => (await import('./commands/init.js')).initCommand(o, io),
  );
  wire(
    program.command('validate').description('load and check the configuration; exit 2 with every error'),
    async (o, io) => (await import('./commands/validate.js')).validateCommand(o, io),
  );
  wire(
    program
      .command('start')
      .description('run the scheduler (in the foreground unless --daemon)')
      .option('--daemon', 'detach and run in the background'),
    async (o, io) => (await daemon()).startCommand(o, io),
  );
  wire(program.command('stop').description('stop a running daemon gracefully'), async (o, io) =>
    (await daemon()).stopCommand(o, io),
  );
  wire(
    program.command('reload').description('make a running daemon re-read its configuration'),
    async (o, io) => (await daemon()).reloadCommand(o, io),
  );
  wire(
    program.command('status').description('daemon, running tasks, next runs, last failures'),
    async (o, io) => (await daemon()).statusCommand(o, io),
  );
  wire(
    program.command('list-tasks').description('tasks with schedule, next run, last result and priority'),
    async (o, io) => (await tasks()).listTasksCommand(o, io),
  );
  wire(
    program
      .command('dashboard')
      .description('print a loopback URL of the dashboard with a one-time login link'),
    async (o, io) => (await import('./commands/dashboard.js')).dashboardCommand(o, io),
  );
  wire(
    program.command('hosts').description('the fleet: hosts, last seen, running runs, version'),
    async (o, io) => (await import('./commands/hosts.js')).hostsCommand(o, io),
  );
  wire(
    program
      .command('run-task')
      .argument('<id>', 'task id')
      .description('run a task now (through the running daemon if there is one)')
      .option('--wait', 'wait for the run to finish and print it')
      .option('--dry-run', 'report what would be done, change nothing')
      .option('--force', 'run a disabled (enabled: false) or paused task anyway')
      .option('--no-retry', "do not retry a failed run (by default the task's retries apply)")
      .option(
        '--format <format>',
        'text, json, or github (workflow annotations; the default when GITHUB_ACTIONS=true)',
      )
      .addHelpText(
        'after',
        "\nA manual run starts now even outside the task's window (a line says so); with --wait it\nwaits for the retries too.",
      ),
    async (o, io, id) => (await import('./commands/run-task.js')).runTaskCommand(id!, o, io),
  );
  wire(
    program
      .command('pause')
      .argument('<id>', 'task id')
      .description('keep a task from starting (kept in the store: restarts and reloads keep it)')
      .option('--reason <text>', 'why (shown in list-tasks, status and on every skipped run)')
      .addHelpText(
        'after',
        '\nWhile paused, every scheduled run of the task is recorded as skipped ("paused by WHO: REASON"),\nand run-task refuses it unless --force. A run already going is not stopped.',
      ),
    async (o, io, id) => (await import('./commands/pause.js')).pauseCommand(id!, o, io),
  );
  wire(
    program
      .command('resume')
      .argument('<id>', 'task id')
      .description('let a paused task run again from its next scheduled run (missed ones are not made up)'),
    async (o, io, id) => (await import('./commands/pause.js')).resumeCommand(id!, o, io),
  );
  wire(
    program
      .command('create-task')
      .argument('<id>', 'the new task id (letters, digits, ".", "_" and "-")')
      .description('add a task to caretaker.yaml (comments kept, checked first) and reload the daemon')
      .option('--action <name>', 'the action (required), e.g. shell, rotate-logs, backup')
      .option('--schedule <expr>', 'cron (5 or 6 fields), @daily, or "every 6h" (required)')
      .option('--description <text>', 'what it is for')
      .option('--category <name>', 'e.g. log_management, cache, backup, health, database')
      .option('--priority <level>', 'low, medium, high or critical')
      .option('--timeout <duration>', 'e.g. 10m')
      .option(
        '--with <key=value>',
        'an option of the action (repeatable); values read as YAML (7, true, [a, b]); keep.daily=7 nests',
        (v: string, prev: string[] = []) => [...prev, v],
      )
      .addHelpText(
        'after',
        '\nExample: caretaker create-task nightly-vacuum --action db-maintain --schedule "0 3 * * *" \\\n           --with path=data/app.db --with \'operations=[vacuum, analyze]\'\nA value the configuration refuses is reported in one line and the file is left as it was.',
      ),
    async (o, io, id) => (await import('./commands/edit-tasks.js')).createTaskCommand(id!, o, io),
  );
  wire(
    program
      .command('schedule-task')
      .argument('<id>', 'task id')
      .description(
        "set a task's schedule in caretaker.yaml (comments kept, checked first) and reload the daemon",
      )
      .option('--cron <expr>', 'the new schedule: cron (5 or 6 fields), @daily, or "every 6h" (required)'),
    async (o, io, id) => (await import('./commands/edit-tasks.js')).scheduleTaskCommand(id!, o, io),
  );
  wire(
    program
      .command('history')
      .argument('[id]', 'only this task')
      .description('past runs, newest first')
      .option('--limit <n>', 'how many runs', '20')
      .option('--host <name>', 'only the runs of this host (a fleet on PostgreSQL)'),
    async (o, io, id) => (await history()).historyCommand(id, o, io),
  );
  wire(
    program
      .command('metrics')
      .description('success rates and durations (avg, p50, p95, max) with trends')
      .option('--days <n>', 'window in days', '30')
      .option('--by-host', 'per task and host (from the runs kept in history)'),
    async (o, io) => (await history()).metricsCommand(o, io),
  );
  wire(
    program
      .command('analyze-priority')
      .argument('<id>', 'task id')
      .description('the priority score of a task and every term of it'),
    async (o, io, id) => (await tasks()).analyzePriorityCommand(id!, o, io),
  );
  wire(
    program
      .command('cleanup')
      .description('delete old history and rollback points now')
      .option('--history-days <n>', 'delete runs older than this many days')
      .option('--rollback-days <n>', 'delete rollback points older than this many days'),
    async (o, io) => (await history()).cleanupCommand(o, io),
  );
  wire(
    program
      .command('health')
      .argument('[tasks...]', 'only these health tasks (default: all)')
      .description('run the health checks now and print the report (exit 1 when a check fails)')
      .option('--markdown', 'print the Markdown report')
      .option('--output <file>', 'also write the Markdown report to this file'),
    async (o, io, ...ids) =>
      (await import('./commands/health.js')).healthCommand(ids.flat() as string[], o, io),
  );
  wire(
    program
      .command('ping')
      .argument('<name>', 'a watch from the configuration')
      .description('report in for an external job (dead-man watch)')
      .option('--fail', 'report a failure instead of a success')
      .option('--message <text>', 'a note kept with the ping'),
    async (o, io, name) => (await alerts()).pingCommand(name!, o, io),
  );
  wire(
    program
      .command('report')
      .description('summary over N days: runs, failures, backups, incidents, disk forecast')
      .option('--days <n>', 'window in days', '7')
      .option('--format <fmt>', 'md, json or csv (the task table)', 'md')
      .option('--output <file>', 'write to this file instead of printing'),
    async (o, io) => (await alerts()).reportCommand(o, io),
  );
  wire(
    program
      .command('export')
      .description('write history, metrics and incidents to files')
      .option('--format <fmt>', 'csv, json or md, or a list such as csv,md', 'csv')
      .option('--output <dir>', 'directory to write into')
      .option('--days <n>', 'window in days', '30'),
    async (o, io) => (await alerts()).exportCommand(o, io),
  );
  wire(
    program
      .command('notify-test')
      .argument('[channel]', 'only this channel')
      .description('send a test alert through every configured channel (or one)'),
    async (o, io, channel) => (await alerts()).notifyTestCommand(channel, o, io),
  );
  wire(
    program
      .command('list-rollbacks')
      .description('rollback points, newest first, with what they hold and when they were restored')
      .option('--task <id>', 'only the points of this task'),
    async (o, io) => (await import('./commands/rollback.js')).listRollbacksCommand(o, io),
  );
  wire(
    program
      .command('rollback')
      .argument('<point>', 'a rollback point id, e.g. rb-12 (see list-rollbacks)')
      .description('restore the files of a rollback point (verified first; recorded in history)')
      .option('--reason <text>', 'why (required; kept in history)')
      .option('--dry-run', 'show what would be restored and deleted, change nothing'),
    async (o, io, id) => (await import('./commands/rollback.js')).rollbackCommand(id!, o, io),
  );
  const access = () => import('./commands/access.js');
  const tokenCmd = program
    .command('token')
    .description('API tokens: create (shown once, stored as SHA-256), list, revoke')
    .exitOverride();
  wire(
    tokenCmd
      .command('create')
      .argument('<name>', 'a name for the token (the actor in the audit log)')
      .description('make a token and print it once')
      .option(
        '--role <role>',
        'viewer (reads), operator (also runs, cancels, pauses, restores) or admin (everything)',
      )
      .option('--expires <duration>', 'it stops working after this, e.g. 30d (default: never)')
      .option(
        '--tasks <ids>',
        'operator only: the tasks (and watches) it may act on, e.g. backup,rotate-logs',
      ),
    async (o, io, name) => (await access()).tokenCreateCommand(name!, o, io),
  );
  wire(
    tokenCmd
      .command('list')
      .description('tokens with role, tasks, expiry, last use; warns of those expiring within 7 days'),
    async (o, io) => (await access()).tokenListCommand(o, io),
  );
  wire(
    tokenCmd
      .command('revoke')
      .argument('<name>', 'the token to revoke')
      .description('refuse a token from now on'),
    async (o, io, name) => (await access()).tokenRevokeCommand(name!, o, io),
  );
  wire(
    program
      .command('audit')
      .description('who did what: changes and refused requests from the audit log, newest first')
      .option('--since <duration>', 'how far back, e.g. 24h or 30d', '7d')
      .option('--limit <n>', 'at most this many rows', '1000'),
    async (o, io) => (await access()).auditCommand(o, io),
  );
  const importCmd = program
    .command('import')
    .description('print caretaker tasks equivalent to another tool’s configuration')
    .exitOverride();
  wire(
    importCmd
      .command('crontab')
      .argument('[file]', 'a crontab file, or - for stdin (default: stdin)')
      .description('convert a crontab (user or system format, /etc/cron.d files) to shell tasks')
      .option('--system', 'the file has a user column (/etc/crontab, /etc/cron.d)')
      .option('--user', 'the file has no user column (crontab -l)'),
    async (o, io, file) => (await import('./commands/import.js')).importCrontabCommand(file, o, io),
  );
  wire(
    importCmd
      .command('logrotate')
      .argument('<files...>', 'logrotate configuration files or directories (e.g. /etc/logrotate.conf)')
      .description('convert logrotate configuration (with its includes) to rotate-logs tasks'),
    async (o, io, ...files) =>
      (await import('./commands/import.js')).importLogrotateCommand(files.flat() as string[], o, io),
  );
  const backupCmd = program
    .command('backup')
    .description('list, verify and restore the archives of the backup tasks')
    .exitOverride();
  wire(
    backupCmd
      .command('list')
      .description('archives with size, age, files and verified state')
      .option('--dest <dir>', 'list this directory instead of the configured backup destinations')
      .option('--task <id>', 'only archives of this backup task'),
    async (o, io) => (await import('./commands/backup.js')).backupListCommand(o, io),
  );
  wire(
    backupCmd
      .command('verify')
      .argument(
        '[archive]',
        'an archive path or name, or a copy s3://bucket/prefix/NAME or sftp://user@host:port/dir/NAME (default: the newest archive of each backup task)',
      )
      .description('re-read archives and check every checksum against their manifests')
      .option('--identity <file>', 'age key file to look inside an encrypted copy')
      .option('--dest <dir>', 'look in this directory instead of the configured backup destinations')
      .option('--task <id>', 'only archives of this backup task')
      .option('--all', 'every archive, not only the newest of each task'),
    async (o, io, archive) => (await import('./commands/backup.js')).backupVerifyCommand(archive, o, io),
  );
  wire(
    backupCmd
      .command('restore')
      .argument(
        '<archive>',
        'an archive path or name, or a copy s3://bucket/prefix/NAME or sftp://user@host:port/dir/NAME',
      )
      .description('verify an archive, then extract it into a directory (never outside it)')
      .option('--identity <file>', 'age key file for an encrypted copy')
      .option(
        '--to <dir>',
        'the directory to restore into (required), or a postgres:// URL: load the dump, keep no files',
      )
      .option('--only <glob>', 'only entries matching this glob (archive paths, e.g. "srv/app/data/**")')
      .option(
        '--force',
        'overwrite existing files (and drop existing objects when loading a PostgreSQL dump)',
      )
      .option('--postgres <url>', "load the archive's PostgreSQL dump into this database with pg_restore")
      .option(
        '--skip-external-links',
        'leave out symlinks pointing outside the directory (they are restored as links by default)',
      )
      .option('--dest <dir>', 'where to find an archive given by name'),
    async (o, io, archive) =>
      (await import('./commands/backup-restore.js')).backupRestoreCommand(archive!, o, io),
  );
  const storeCmd = program
    .command('store')
    .description('the history store: copy a host’s history into the fleet’s PostgreSQL store')
    .exitOverride();
  wire(
    storeCmd
      .command('copy')
      .description(
        'copy this configuration’s SQLite history (finished runs, task state, daily stats, samples, closed incidents, pings) into a PostgreSQL store; run it again to copy only what is new',
      )
      .option('--to <url>', 'the PostgreSQL store, postgres://user@host/db')
      .option(
        '--to-env <name>',
        'an environment variable holding the URL (keeps a password off the command line)',
      )
      .option('--schema <name>', 'the schema of the PostgreSQL store', 'caretaker')
      .option('--batch <n>', 'runs per transaction', '2000'),
    async (o, io) => (await import('./commands/store.js')).storeCopyCommand(o, io),
  );
  return program;
}

/** Runs the CLI and returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: Io = stdio): Promise<number> {
  let code = 0;
  const json = argv.includes('--json');
  const debug = argv.includes('--debug');
  const fail = failWith(io, json);
  const program = buildProgram(
    io,
    (c) => (code = c),
    (message) => fail(2, message),
  );
  try {
    await program.parseAsync([...argv], { from: 'node' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return 0;
      return 2; // commander already printed its one line
    }
    return reportFailure(err, io, json, debug);
  }
}
