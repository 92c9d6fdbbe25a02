/**
 * What every published manifest (`packages/*`, not private) carries for a consumer (issue 14
 * point 6): `repository` with its folder, `engines` (the root's Node range), `sideEffects`, a
 * `license` with its LICENSE file, and a `files` list that leaves out TypeScript's build info.
 * `pnpm exec tsx tooling/consumer-install/src/manifests.ts [--fix]` reports (exit 1) or adds what
 * is missing; the consumer-install test fails on any problem.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where the sources live: the one place to change it. */
export const REPOSITORY_URL = 'git+https://github.com/vouch/vouch.git'
const NO_BUILD_INFO = '!dist/.tsbuildinfo'

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

type Json = Record<string, unknown>

export interface PublishedPackage {
  /** `packages/<folder>` */
  readonly dir: string
  readonly name: string
  readonly path: string
  readonly manifest: Json
}

/** The published packages of the workspace, by folder name. */
export function publishedPackages(): PublishedPackage[] {
  return readdirSync(join(ROOT, 'packages'))
    .sort()
    .map((folder) => ({ dir: `packages/${folder}`, path: join(ROOT, 'packages', folder, 'package.json') }))
    .filter(({ path }) => existsSync(path))
    .map((p) => {
      const manifest = JSON.parse(readFileSync(p.path, 'utf8')) as Json
      return { ...p, name: String(manifest.name), manifest }
    })
    .filter(({ manifest }) => manifest.private !== true)
}

const rootEngines = (): string =>
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node

/** Problems of one manifest, as sentences; empty when it is complete. */
export function manifestProblems({ dir, manifest }: PublishedPackage): string[] {
  const problems: string[] = []
  const repo = manifest.repository as Json | undefined
  if (repo?.url !== REPOSITORY_URL || repo?.directory !== dir || repo?.type !== 'git')
    problems.push(`repository must be { type: 'git', url: '${REPOSITORY_URL}', directory: '${dir}' }`)
  const engines = manifest.engines as Json | undefined
  if (engines?.node !== rootEngines()) problems.push(`engines.node must be "${rootEngines()}" (the root's)`)
  if (typeof manifest.sideEffects !== 'boolean' && !Array.isArray(manifest.sideEffects))
    problems.push('sideEffects must be set (false, or the files with side effects)')
  if (typeof manifest.license !== 'string') problems.push('license must be set (MIT, or GPL-3.0-only)')
  const license = join(ROOT, dir, 'LICENSE')
  if (!existsSync(license)) problems.push('LICENSE file missing')
  else if (!licenseMatches(String(manifest.license), readFileSync(license, 'utf8')))
    problems.push(`LICENSE file is not the text of "${String(manifest.license)}"`)
  if (!Array.isArray(manifest.files) || !manifest.files.includes(NO_BUILD_INFO))
    problems.push(`files must list "${NO_BUILD_INFO}" (no .tsbuildinfo in the tarball)`)
  return problems
}

/** The licenses of the suite: MIT, and GPL-3.0-only for a package that needs a GPL dependency. */
function licenseMatches(spdx: string, text: string): boolean {
  if (spdx === 'MIT') return text.startsWith('MIT License') && text.includes('Permission is hereby granted')
  if (spdx === 'GPL-3.0-only')
    return text.includes('GNU GENERAL PUBLIC LICENSE') && text.includes('Version 3, 29 June 2007')
  return false
}

/** Adds what {@link manifestProblems} asks for; other keys keep their order and values. */
export function fixManifest({ dir, path, manifest }: PublishedPackage): void {
  const out: Json = {}
  for (const [key, value] of Object.entries(manifest)) {
    out[key] = value
    if (key === 'license') {
      out.repository = { type: 'git', url: REPOSITORY_URL, directory: dir }
      out.engines = { ...(manifest.engines as Json | undefined), node: rootEngines() }
    }
  }
  if (out.sideEffects === undefined) out.sideEffects = false
  if (Array.isArray(out.files) && !out.files.includes(NO_BUILD_INFO)) {
    const at = out.files.indexOf('dist')
    out.files.splice(at < 0 ? out.files.length : at + 1, 0, NO_BUILD_INFO)
  }
  writeFileSync(path, `${JSON.stringify(out, null, 2)}\n`)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  let bad = 0
  for (const p of publishedPackages()) {
    const problems = manifestProblems(p)
    if (problems.length === 0) continue
    if (process.argv.includes('--fix')) {
      fixManifest(p)
      console.log(`${p.dir}: fixed`)
      continue
    }
    bad++
    for (const problem of problems) console.error(`${p.dir}: ${problem}`)
  }
  process.exit(bad > 0 ? 1 : 0)
}
