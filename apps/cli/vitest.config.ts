import { defineProject } from 'vitest/config'

// The tests that spawn `vouch` run the compiled bundle: build it first (test/build-bundle.ts).
export default defineProject({
  test: {
    name: '@vouch/cli',
    globalSetup: ['./test/build-bundle.ts'],
  },
})
