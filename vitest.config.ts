import { defineConfig } from 'vitest/config'

// One root config, one project per workspace package (vitest "projects").
// Slow tiers are gated by environment variables inside the suites themselves.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tooling/*'],
  },
})
