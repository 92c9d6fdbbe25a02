import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { defineConfig } from 'vitest/config'

// One root config, one project per workspace package (vitest "projects"): every folder under
// packages/, apps/ and tooling/ that has a package.json. Slow tiers are gated by environment
// variables inside the suites themselves.
const projects = ['packages', 'apps', 'tooling'].flatMap((dir) =>
  existsSync(dir)
    ? readdirSync(dir)
        .map((name) => join(dir, name))
        .filter((path) => existsSync(join(path, 'package.json')))
    : [],
)

export default defineConfig({ test: { projects } })
