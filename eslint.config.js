// Lint rules, including the layering: cli -> client -> protocol <- daemon.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['dist/**', '.dist-build-*/**', 'dist.old-*/**', 'node_modules/**', '.bench-out/**', 'test/fixtures/**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['src/protocol/**'], rules: restrict([{ group: ['node:*', '../daemon/*', '../client/*', '../cli/*', '**/daemon/**', '**/client/**', '**/cli/**'], message: 'protocol does no I/O and depends on nothing else' }]) },
  { files: ['src/client/**'], rules: restrict([{ group: ['**/daemon/**', '**/cli/**', 'zod'], message: 'client depends only on protocol (types and codes), never on zod at run time' }]) },
  { files: ['src/daemon/**'], rules: restrict([{ group: ['**/cli/**', '**/client/**'], message: 'daemon depends on protocol only' }]) },
  { files: ['src/mcp/**'], rules: restrict([{ group: ['**/daemon/**', '**/cli/**'], message: 'the MCP server is a thin layer over the client (and protocol)' }]) },
  { files: ['src/cli/**'], rules: restrict([{ group: ['**/daemon/**'], message: 'cli talks to the daemon through the client' }]) },
);
