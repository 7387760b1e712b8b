import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const nodeBuiltins = [
  'node:*',
  'fs',
  'path',
  'os',
  'child_process',
  'crypto',
  'worker_threads',
  'url',
  'util',
  'stream',
  'events',
  'http',
  'https',
  'net',
  'buffer',
  'process',
];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.cache/**', 'training/**', 'resources/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,mts,mjs,js}'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The clinical core and the API contract run in every process: nothing from Node, Electron or the DOM.
    files: ['src/shared/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'src/shared must not import Node modules.' },
            { group: ['electron', 'electron/*'], message: 'src/shared must not import Electron.' },
            { group: ['react', 'react-dom', 'react-dom/*'], message: 'src/shared must not import the DOM/React.' },
            {
              group: ['../main/*', '../renderer/*', '../preload/*', '**/main/**', '**/renderer/**', '**/preload/**'],
              message: 'src/shared depends on nothing above it.',
            },
          ],
        },
      ],
    },
  },
  {
    // The renderer talks to main only through the typed API exposed by the preload.
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*'], message: 'Use window.marrowcount (the typed API), never Electron directly.' },
            { group: nodeBuiltins, message: 'The renderer has no Node access.' },
            { group: ['**/main/**', '**/preload/**'], message: 'The renderer depends only on src/shared.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['**/renderer/**'], message: 'main never imports renderer code.' }],
        },
      ],
    },
  },
  // The order inside src/main (ARCHITECTURE.md): entry points -> adapters -> service -> inference, report, lis,
  // lab-model, files -> db -> src/shared. Nothing imports a folder above its own.
  ...mainLayerRules(),
);

/** `../x` and `../../x` (from a subfolder), with anything below them, for each folder named. */
function folders(...names) {
  return names.flatMap((name) => [`../${name}`, `../${name}/**`, `../../${name}`, `../../${name}/**`]);
}

function mainLayerRules() {
  const adapters = ['ipc', 'http', 'cli', 'cli.ts', 'boundary', 'protocol', 'window', 'index', 'index.ts', 'app-paths', 'app-paths.ts'];
  const below = ['inference', 'report', 'lis', 'lab-model', 'files', 'security'];
  const rule = (message, ...names) => ({ group: folders(...names), message });
  const renderer = { group: ['**/renderer/**'], message: 'main never imports renderer code.' };
  return [
    // By depth, so that a path means one folder: from db/postgres/, ../lis is db/lis.ts (allowed) and ../../lis is
    // src/main/lis (not); one pattern list for every depth could not tell the two apart.
    ...[1, 2, 3].map((depth) => ({
      files: [`src/main/db/${'*/'.repeat(depth - 1)}*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              renderer,
              {
                group: ['service', ...below, ...adapters].flatMap((name) => [`${'../'.repeat(depth)}${name}`, `${'../'.repeat(depth)}${name}/**`]),
                message: 'src/main/db imports only src/shared: no service, adapter, inference, report, LIS or file code.',
              },
            ],
          },
        ],
      },
    })),
    {
      files: below.map((folder) => `src/main/${folder}/**/*.ts`),
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              renderer,
              rule(
                'inference, report, lis, lab-model and files sit below the service: they import db and src/shared, never the service or an adapter.',
                'service',
                ...adapters,
              ),
            ],
          },
        ],
      },
    },
    {
      files: ['src/main/service/**/*.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [renderer, rule('The service never imports an adapter (IPC, HTTP, CLI, boundary, protocol, window) or an entry point.', ...adapters)],
          },
        ],
      },
    },
  ];
}
