import { defineProject } from 'vitest/config'

// After every other project, and after the OMEMO 2 Converse suite (see ../converse/vitest.config.ts).
export default defineProject({
  test: { name: '@vouch/converse-legacy-tooling', sequence: { groupOrder: 2 } },
})
