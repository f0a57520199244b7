// ESLint flat config: typescript-eslint typed linting. Source files are typed through their
// package's tsconfig.json (projectService); tests, e2e and root config files, which no package
// tsconfig includes, through tsconfig.eslint.json.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const outsidePackageTsconfigs = [
  '**/*.test.ts',
  '**/*.fixture.ts',
  'e2e/**/*.ts',
  'bench/**/*.ts',
  'vitest.config.ts',
  'libs/testkit/src/vitest-global-setup.ts',
];

export default defineConfig(
  {
    ignores: ['**/dist/**', 'proto/gen/**', '**/node_modules/**', '.local/**', 'charts/**', 'coverage/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ExportAllDeclaration',
          message: 'Name what you re-export: `export { a, b } from ...` instead of `export *`.',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@panda/[^/]+/(src|dist)(/|$)',
              message: 'Import the package (`@panda/x`), not its src/ or dist/ files.',
            },
            {
              regex: '^(\\.\\./)+([^./][^/]*/)*(libs|services)/[^/]+/src(/|$)',
              message: "Do not reach into another package's src/: import the package (`@panda/x`).",
            },
            {
              regex: '^(\\.\\./)+[^./][^/]*/src(/|$)',
              message: "Do not reach into another package's src/: import the package (`@panda/x`).",
            },
            {
              regex: '(^|/)proto/gen(/|$)',
              message: 'Import generated code from `@panda/proto`.',
            },
          ],
        },
      ],
    },
  },
  {
    files: outsidePackageTsconfigs,
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: ['./tsconfig.eslint.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
