/**
 * Two projects. `unit`: pure rules (outcome, Retry-After, response bodies, parsers), no
 * stack, seconds (`npm run test:unit`). `stack`: everything else, against one real
 * PostgreSQL and one real Temporal dev server started in globalSetup. `npm test` runs both.
 */
const common = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(ts|js)$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  // jose is ESM-only: compile it like our own sources.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
};

module.exports = {
  testTimeout: 180000,
  watchman: false,
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    {
      ...common,
      displayName: 'stack',
      roots: ['<rootDir>/test'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/unit/', '<rootDir>/test/cluster/'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
