import { defineProject } from 'vitest/config'

// Converse.js in Chromium has its own races under CPU load (a key exchange handled live and from
// the archive at once, see ../converse-legacy/README.md): this suite runs after every other
// project has finished (group 1), and the OMEMO 0.3 one after it (group 2), so no other test
// competes with a browser for the CPU.
export default defineProject({
  test: { name: '@vouch/converse-tooling', sequence: { groupOrder: 1 } },
})
