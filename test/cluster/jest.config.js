/**
 * `npm run test:cluster`: the production topology on a real Temporal server (built from its
 * Go module, on PostgreSQL) with API and worker processes apart, under faults and a rolling
 * upgrade. Slow (minutes a file), so apart from `npm test`; .ci/run runs both.
 */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  transform: { '^.+\\.(ts|js)$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
  testTimeout: 900_000,
  watchman: false,
};
