/** The text edits behind create-task and schedule-task: only the edited span of the file changes. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addTask, parseWith, setSchedule } from '../../src/config/config-edit.js';

describe('parseWith (--with key=value)', () => {
  it('reads values as YAML scalars and lists; what YAML cannot read stays text; dotted keys nest', () => {
    expect(
      parseWith([
        'rotate=7',
        'compress=true',
        'ratio=0.5',
        'name=app',
        'paths=[logs/*.log, "other dir/*.log"]',
        'include=*.log',
        'keep.daily=7',
        'keep.weekly=4',
        'command=echo "hi: there"',
        'quoted="true"',
        'empty=',
        'none=~',
        'note=echo hi # not a comment',
      ]),
    ).toEqual({
      rotate: 7,
      compress: true,
      ratio: 0.5,
      name: 'app',
      paths: ['logs/*.log', 'other dir/*.log'],
      include: '*.log',
      keep: { daily: 7, weekly: 4 },
      command: 'echo "hi: there"',
      quoted: 'true',
      empty: '',
      none: null,
      note: 'echo hi # not a comment',
    });
  });

  it.each([
    ['no equals sign', ['rotate'], /--with "rotate": expected key=value/],
    ['an empty key', ['=7'], /--with "=7": expected key=value/],
    ['a key with a space', ['a b=1'], /expected key=value/],
    ['an empty part of a dotted key', ['keep..daily=1'], /expected key=value/],
    ['a key given twice', ['rotate=1', 'rotate=2'], /--with rotate: given twice/],
    [
      'a value and a dotted child',
      ['keep=1', 'keep.daily=2'],
      /--with keep.daily: keep is already given a value/,
    ],
    ['a dotted child, then the parent', ['keep.daily=2', 'keep=1'], /--with keep: given twice/],
  ])('refuses %s', (_what, pairs, message) => {
    expect(() => parseWith(pairs)).toThrow(message);
  });
});

describe('addTask', () => {
  const FILE = [
    '# top comment',
    'version: 1',
    '',
    'tasks:',
    '  # the first task',
    '  a:',
    '    action: shell   # spaced comment',
    '    schedule: "@daily"',
    '    with: { command: "true" }',
    '',
    '  # a commented-out task at the end',
    '  # b:',
    '  #   action: shell',
    '',
    '# after tasks',
    'state_dir: .caretaker',
    '',
  ].join('\n');

  it('appends after the last task, every other byte unchanged, in the file’s indentation', () => {
    const out = addTask(FILE, {
      id: 'n',
      action: 'shell',
      schedule: '0 3 * * *',
      description: 'New: one',
      with: { command: 'echo hi', paths: ['x', 'y'], keep: { daily: 7 } },
    });
    const inserted = [
      '',
      '  n:',
      '    description: "New: one"',
      '    action: shell',
      '    schedule: "0 3 * * *"',
      '    with:',
      '      command: echo hi',
      '      paths: [x, y]',
      '      keep:',
      '        daily: 7',
    ];
    const lines = FILE.split('\n');
    // Right after the last task's last line (its `with:`), before the comments that follow it.
    expect(out.split('\n')).toEqual([...lines.slice(0, 9), ...inserted, ...lines.slice(9)]);
    expect(parse(out).tasks.n).toEqual({
      description: 'New: one',
      action: 'shell',
      schedule: '0 3 * * *',
      with: { command: 'echo hi', paths: ['x', 'y'], keep: { daily: 7 } },
    });
  });

  it('follows a four-space indentation and a file without a final newline', () => {
    const text = 'version: 1\ntasks:\n    a:\n        action: shell\n        with: { command: "true" }';
    const out = addTask(text, { id: 'b', action: 'shell', schedule: '@daily' });
    expect(out).toBe(`${text}\n\n    b:\n        action: shell\n        schedule: "@daily"\n`);
  });

  it('refuses an id the file has, naming its line', () => {
    expect(() => addTask(FILE, { id: 'a', action: 'shell', schedule: '@daily' })).toThrow(
      'task "a" already exists (line 6); schedule-task a --cron EXPR changes its schedule',
    );
  });

  it('a file without tasks gets a tasks map, its comments kept', () => {
    const out = addTask('# mine\nversion: 1\n', { id: 'x', action: 'shell', schedule: '@daily' });
    expect(out).toContain('# mine');
    expect(parse(out)).toEqual({ version: 1, tasks: { x: { action: 'shell', schedule: '@daily' } } });
  });
});

describe('setSchedule', () => {
  it('replaces only the scalar, in its own quoting', () => {
    const text =
      'tasks:\n  a:\n    schedule: "0 2 * * *"   # nightly\n  b:\n    schedule: \'@daily\'\n  c:\n    schedule: 0 3 * * *\n';
    let out = setSchedule(text, 'a', '*/5 * * * *');
    expect(out).toEqual({ text: text.replace('"0 2 * * *"', '"*/5 * * * *"'), previous: '0 2 * * *' });
    out = setSchedule(text, 'b', "it's");
    expect(out.text).toBe(text.replace("'@daily'", "'it''s'"));
    // A plain scalar stays plain when it can; `@hourly` cannot be plain (@ is reserved).
    expect(setSchedule(text, 'c', '0 4 * * *').text).toBe(text.replace('0 3 * * *', '0 4 * * *'));
    expect(setSchedule(text, 'c', '@hourly').text).toBe(text.replace('0 3 * * *', '"@hourly"'));
  });

  it('adds a schedule after the action line of a block task, and inside a flow task', () => {
    const text =
      'tasks:\n  a:\n    action: shell   # x\n    with: { command: "true" }\n  b: { action: shell, with: { command: "true" } }   # flow\n';
    const a = setSchedule(text, 'a', '@weekly');
    expect(a).toEqual({
      text: text.replace('# x\n', '# x\n    schedule: "@weekly"\n'),
      previous: null,
    });
    expect(setSchedule(text, 'b', 'every 2h').text).toBe(
      text.replace('{ command: "true" } }', '{ command: "true" }, schedule: "every 2h" }'),
    );
  });

  it('refuses a task the file does not have, with a suggestion', () => {
    expect(() => setSchedule('tasks:\n  backup-data: { action: backup }\n', 'backup-dat', '@daily')).toThrow(
      'unknown task "backup-dat" (did you mean "backup-data"?)',
    );
  });
});
