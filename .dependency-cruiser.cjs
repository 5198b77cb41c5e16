/**
 * The import rule of caretaker's folders (docs/architecture.md): a folder imports only folders
 * below it, and the faces (cli/, server/, index.ts) only the facade, the error classes, the
 * renderers and the pure core. `npm run check` runs it (`npm run layers`).
 */

/** Bottom up. A folder may import its own rank's folder and any lower rank, nothing above. */
const RANKS = [
  ['core', 'errors', 'version.ts'],
  ['schema', 'os'],
  ['store'],
  ['backup'],
  ['safety', 'notify'],
  ['actions'],
  ['config', 'report'],
  ['engine'],
  ['caretaker.ts'],
  ['create-caretaker.ts'],
  ['caretaker-tools.ts'],
  ['server'],
  ['cli'],
];

/** `src/<name>` as a path pattern: a folder and everything in it, or one file. */
const at = (name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`);
const any = (names) => names.map(at).join('|');

const layerRules = RANKS.flatMap((rank, i) =>
  rank.map((name) => {
    const others = rank.filter((n) => n !== name);
    const above = [...RANKS.slice(i + 1).flat(), ...others, 'index.ts'];
    return {
      name: `layer-${name.replace('.ts', '')}`,
      comment: `${name} imports only what sits below it: ${RANKS.slice(0, i).flat().join(', ') || 'nothing of caretaker'}`,
      severity: 'error',
      from: { path: at(name) },
      to: { path: any(above) },
    };
  }),
);

/** What the faces may import besides their own folder: the facade, errors, renderers, core. */
const FACE_ALLOWED = ['caretaker.ts', 'caretaker-tools.ts', 'errors', 'report', 'core', 'version.ts'];
const BEHIND_THE_FACADE = [
  'schema',
  'os',
  'store',
  'backup',
  'safety',
  'notify',
  'actions',
  'config',
  'engine',
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a file cycle means two modules that cannot be understood apart',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'sealed-facade',
      comment: `the faces talk to the facade only (allowed: ${FACE_ALLOWED.join(', ')})`,
      severity: 'error',
      from: { path: '^src/(cli|server)/' },
      to: { path: any(BEHIND_THE_FACADE) },
    },
    {
      name: 'sealed-library',
      comment: 'src/index.ts exports the facade and the action-author API (actions/types, actions/module)',
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: {
        path: any(BEHIND_THE_FACADE),
        pathNot: '^src/actions/(types|module)\\.ts$',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
