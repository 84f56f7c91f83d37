import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'infra/ferretdb/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The account pages' sources run in the browser (their tests in jsdom); their build config runs in Node.
  { ignores: ['web/src/**'], languageOptions: { globals: globals.node } },
  { files: ['web/src/**'], languageOptions: { globals: globals.browser } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
);
