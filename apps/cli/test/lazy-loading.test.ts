/**
 * Issue 13 point 7: `vouch` runs compiled JavaScript and loads a protocol's libraries only when a
 * command needs them. Spawns the built bundle with a module-load hook and maps every loaded
 * chunk to the sources it holds (esbuild's metafile, dist/bundle/meta.json).
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BIN } from './spawn.ts'

const META = fileURLToPath(new URL('../dist/bundle/meta.json', import.meta.url))
const HOOK = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module'
register('data:text/javascript,' + encodeURIComponent(
  "export async function load(url, context, next) { if (url.includes('/dist/bundle/')) process.stderr.write('LOADED ' + url + '\\\\n'); return next(url, context) }"
))`)}`

/** The source files in the chunks `vouch argv` loads. */
function sourcesLoadedBy(argv: readonly string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', HOOK, BIN, ...argv], { encoding: 'utf8' })
  expect(r.status, r.stderr).toBe(0)
  const chunks = [...r.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => basename(m[1] as string))
  expect(chunks).toContain('main.js')
  const meta = JSON.parse(readFileSync(META, 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>
  }
  return Object.entries(meta.outputs)
    .filter(([out]) => chunks.includes(basename(out)))
    .flatMap(([, o]) => Object.keys(o.inputs))
}

const PROTOCOL_LIBRARIES = [
  'openpgp',
  '@xmpp/client',
  'backend-omemo',
  'backend-ox',
  'packages/xmpp',
  'store-sqlite',
]

describe('the compiled vouch loads only what a command needs', () => {
  const URI =
    'xmpp:bob@example.com?trust-message;encryption=urn:xmpp:omemo:2;trust=623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f'
  for (const argv of [['--help'], ['uri', 'parse', URI], ['help', 'chat']]) {
    it(`vouch ${argv[0]} ${argv[1]?.slice(0, 10) ?? ''}: runs the bundle, no protocol library`, () => {
      const sources = sourcesLoadedBy(argv)
      expect(sources.some((s) => s.includes('src/main.ts'))).toBe(true)
      for (const lib of PROTOCOL_LIBRARIES)
        expect(
          sources.filter((s) => s.includes(lib)),
          lib,
        ).toEqual([])
    })
  }
  it('the control: vouch ox --help loads the OX group, and with it OpenPGP.js', () => {
    const sources = sourcesLoadedBy(['ox', '--help'])
    expect(sources.some((s) => s.includes('backend-ox'))).toBe(true)
    expect(sources.some((s) => s.includes('openpgp'))).toBe(true)
  })
})
