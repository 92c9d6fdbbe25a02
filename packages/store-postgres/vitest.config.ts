import { defineProject } from 'vitest/config'

// One throwaway PostgreSQL cluster for all of this package's test files (tooling/postgres),
// started once by the global setup; the test files get its URL through `inject('postgres')`.
export default defineProject({
  test: {
    name: '@vouch/store-postgres',
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
