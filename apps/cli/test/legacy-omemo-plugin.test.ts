/**
 * The optional OMEMO 0.3 plugin's loader (src/online/legacy-omemo.ts): the GPL-3.0 package is
 * loaded by dynamic import only; when it is missing, one line naming it and its license
 * (`OMEMO03-PLUGIN`, a UsageError: exit 2); other failures are not disguised as "missing".
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../src/io.ts'
import { LEGACY_OMEMO_PACKAGE, loadLegacyOmemo } from '../src/online/legacy-omemo.ts'

/** What Node throws for an import of a package that is not installed. */
function moduleNotFound(specifier: string): Error {
  return Object.assign(new Error(`Cannot find package '${specifier}' imported from /x/dist/bundle/a.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  })
}

describe('OMEMO 0.3 plugin loader', () => {
  it('OMEMO03-PLUGIN: a missing package is one line naming it and its license (UsageError, exit 2)', async () => {
    const err = await loadLegacyOmemo(() => Promise.reject(moduleNotFound(LEGACY_OMEMO_PACKAGE))).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(UsageError)
    const message = (err as Error).message
    expect(message).toMatch(/^OMEMO03-PLUGIN: /)
    expect(message).toContain('@vouch/backend-omemo-legacy')
    expect(message).toContain('GPL-3.0-only')
    expect(message).not.toContain('\n')
  })

  it('OMEMO03-PLUGIN: a missing dependency of the plugin is not reported as the plugin missing', async () => {
    const inner = moduleNotFound('@privacyresearch/libsignal-protocol-typescript')
    await expect(loadLegacyOmemo(() => Promise.reject(inner))).rejects.toBe(inner)
  })

  it('loads the installed plugin (a devDependency in the workspace)', async () => {
    const [root, pep, node] = await loadLegacyOmemo()
    expect(root.NS_AXOLOTL).toBe('eu.siacs.conversations.axolotl')
    expect(typeof pep.legacyOmemoKeyDirectory).toBe('function')
    expect(typeof node.nodeLibsignal).toBe('function')
  })

  it('the MIT CLI names the GPL package only as an optional peer dependency, and the bundle leaves it out', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(manifest.license).toBe('MIT')
    expect(manifest.dependencies[LEGACY_OMEMO_PACKAGE]).toBeUndefined()
    expect(manifest.peerDependenciesMeta[LEGACY_OMEMO_PACKAGE]).toEqual({ optional: true })
    // dist/bundle/meta.json (built by the globalSetup): no input of the plugin or its libsignal
    const meta = JSON.parse(readFileSync(new URL('../dist/bundle/meta.json', import.meta.url), 'utf8'))
    const inputs = Object.keys(meta.inputs)
    expect(inputs.length).toBeGreaterThan(0)
    expect(inputs.filter((i) => /backend-omemo-legacy|libsignal-protocol|privacyresearch/.test(i))).toEqual(
      [],
    )
  })
})
