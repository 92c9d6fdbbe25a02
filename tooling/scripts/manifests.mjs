#!/usr/bin/env node
// What every published manifest (packages/*, not private) must carry for a consumer (issue 14
// point 6): repository (with its folder), engines (the root's Node range), sideEffects, a license
// with its LICENSE file, and a `files` list that leaves out TypeScript's build info.
//   node tooling/scripts/manifests.mjs          report, exit 1 on a problem
//   node tooling/scripts/manifests.mjs --fix    add what is missing (other keys keep their order)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Where the sources live; the one place to change it. */
export const REPOSITORY_URL = 'git+https://github.com/vouch-xmpp/vouch.git'
const NO_BUILD_INFO = '!dist/.tsbuildinfo'

const root = new URL('../../', import.meta.url).pathname
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

/** The published packages: folder, path of package.json, manifest. */
export function publishedPackages() {
  return readdirSync(join(root, 'packages'))
    .map((dir) => ({ dir: `packages/${dir}`, path: join(root, 'packages', dir, 'package.json') }))
    .filter(({ path }) => existsSync(path))
    .map((p) => ({ ...p, manifest: JSON.parse(readFileSync(p.path, 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true)
}

/** Problems of one manifest, as sentences; empty when it is complete. */
export function manifestProblems({ dir, manifest }) {
  const problems = []
  const repo = manifest.repository
  if (repo?.url !== REPOSITORY_URL || repo?.directory !== dir || repo?.type !== 'git')
    problems.push(`repository must be { type: 'git', url: '${REPOSITORY_URL}', directory: '${dir}' }`)
  if (manifest.engines?.node !== rootManifest.engines.node)
    problems.push(`engines.node must be "${rootManifest.engines.node}" (the root's)`)
  if (typeof manifest.sideEffects !== 'boolean' && !Array.isArray(manifest.sideEffects))
    problems.push('sideEffects must be set (false, or the list of files with side effects)')
  if (typeof manifest.license !== 'string') problems.push('license must be set')
  if (!existsSync(join(root, dir, 'LICENSE'))) problems.push('LICENSE file missing')
  if (!Array.isArray(manifest.files) || !manifest.files.includes(NO_BUILD_INFO))
    problems.push(`files must list "${NO_BUILD_INFO}" (no .tsbuildinfo in the tarball)`)
  return problems
}

function fix({ dir, path, manifest }) {
  const out = {}
  for (const [key, value] of Object.entries(manifest)) {
    out[key] = value
    if (key === 'license') {
      out.repository = { type: 'git', url: REPOSITORY_URL, directory: dir }
      out.engines = { ...manifest.engines, node: rootManifest.engines.node }
    }
  }
  if (out.sideEffects === undefined) out.sideEffects = false
  if (Array.isArray(out.files) && !out.files.includes(NO_BUILD_INFO)) {
    const at = out.files.indexOf('dist')
    out.files.splice(at < 0 ? out.files.length : at + 1, 0, NO_BUILD_INFO)
  }
  writeFileSync(path, `${JSON.stringify(out, null, 2)}\n`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let bad = 0
  for (const p of publishedPackages()) {
    const problems = manifestProblems(p)
    if (problems.length === 0) continue
    if (process.argv.includes('--fix')) {
      fix(p)
      console.log(`${p.dir}: fixed`)
      continue
    }
    bad++
    for (const problem of problems) console.error(`${p.dir}: ${problem}`)
  }
  process.exit(bad > 0 ? 1 : 0)
}
