import { defineProject } from 'vitest/config'

// one long file: packing, installing and the browser runs share one temp project
export default defineProject({
  test: { name: '@vouch/consumer-install', testTimeout: 90_000, hookTimeout: 300_000 },
})
