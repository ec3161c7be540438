// Jest runs in native ESM mode (node --experimental-vm-modules): Nest 12 ships ESM only.
// Two projects: `unit` (pure logic, fakes allowed) and `integration` (real servers started
// by test/harness). Aliases mirror tsconfig "paths".
const moduleNameMapper = {
  // Deep imports through an alias carry the .js suffix ESM needs; map them to the .ts source.
  '^@app/(api|dev-servers|bus|client|event-store|metrics|logging)/(.*)\\.js$': '<rootDir>/libs/$1/src/$2',
  '^@app/testing/(.*)\\.js$': '<rootDir>/test/harness/$1',
  '^@app/api$': '<rootDir>/libs/api/src/index.ts',
  '^@app/api/(.*)$': '<rootDir>/libs/api/src/$1',
  '^@app/dev-servers$': '<rootDir>/libs/dev-servers/src/index.ts',
  '^@app/dev-servers/(.*)$': '<rootDir>/libs/dev-servers/src/$1',
  '^@app/bus$': '<rootDir>/libs/bus/src/index.ts',
  '^@app/client$': '<rootDir>/libs/client/src/index.ts',
  '^@app/metrics$': '<rootDir>/libs/metrics/src/index.ts',
  '^@app/logging$': '<rootDir>/libs/logging/src/index.ts',
  '^@app/metrics/(.*)$': '<rootDir>/libs/metrics/src/$1',
  '^@app/client/(.*)$': '<rootDir>/libs/client/src/$1',
  '^@app/bus/(.*)$': '<rootDir>/libs/bus/src/$1',
  '^@app/event-store$': '<rootDir>/libs/event-store/src/index.ts',
  '^@app/event-store/(.*)$': '<rootDir>/libs/event-store/src/$1',
  '^@app/testing$': '<rootDir>/test/harness/index.ts',
  '^@app/testing/(.*)$': '<rootDir>/test/harness/$1',
  '^@app/checkers$': '<rootDir>/test/checkers/index.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
};
const common = {
  rootDir: '.',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  moduleNameMapper,
  testEnvironment: 'node',
};

export default {
  // A bound, not a speed assertion: integration tests wait on real servers with bounded polling.
  testTimeout: 120000,
  // With one worker (a 2-core machine) Jest would run every file in its own main process, and
  // in ESM mode each file's module registry stays on that heap: 1 GB after the unit files alone,
  // with the collector's work growing alongside (the unit project took 193 s). A worker over
  // this limit after a file is replaced instead: 58 s for the same files on one worker.
  workerIdleMemoryLimit: '512MB',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,test,bench}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
