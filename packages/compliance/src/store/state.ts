/** Namespaced backend state: get, set, delete, list with prefix, bytes copied, isolation. */
import { describe, expect, it } from 'vitest'
import { bytes, type SuiteContext } from './fixtures.ts'

export function stateTests(ctx: SuiteContext): void {
  describe('backend state', () => {
    it('an unknown key reads undefined; a set value reads back; a second set overwrites', async () => {
      const s = ctx.alice()
      expect(await s.getState('omemo', 'identity')).toBeUndefined()
      await s.setState('omemo', 'identity', bytes(1, 2, 3))
      expect(await s.getState('omemo', 'identity')).toEqual(bytes(1, 2, 3))
      await s.setState('omemo', 'identity', bytes(4))
      expect(await s.getState('omemo', 'identity')).toEqual(bytes(4))
    })

    it('values come back as Uint8Array with every byte value intact', async () => {
      const all = new Uint8Array(256).map((_, i) => i)
      await ctx.alice().setState('ox', 'secret', all)
      const got = await ctx.alice().getState('ox', 'secret')
      expect(got).toBeInstanceOf(Uint8Array)
      expect(got).toEqual(all)
    })

    it('an empty value is stored (and differs from a missing one)', async () => {
      const s = ctx.alice()
      await s.setState('omemo', 'empty', new Uint8Array(0))
      expect(await s.getState('omemo', 'empty')).toEqual(new Uint8Array(0))
      expect(await s.listState('omemo')).toEqual(['empty'])
    })

    it('setState copies the bytes: changing the input afterwards changes nothing', async () => {
      const s = ctx.alice()
      const value = bytes(1, 2, 3)
      await s.setState('omemo', 'k', value)
      value[0] = 99
      expect(await s.getState('omemo', 'k')).toEqual(bytes(1, 2, 3))
    })

    it('setState copies a view into a larger buffer (only its bytes, not aliased)', async () => {
      const s = ctx.alice()
      const backing = bytes(0, 1, 2, 3, 4, 5)
      await s.setState('omemo', 'view', backing.subarray(2, 4))
      backing.fill(9)
      expect(await s.getState('omemo', 'view')).toEqual(bytes(2, 3))
    })

    it('getState returns a copy: changing it changes nothing', async () => {
      const s = ctx.alice()
      await s.setState('omemo', 'k', bytes(1, 2, 3))
      const got = await s.getState('omemo', 'k')
      got?.fill(0)
      expect(await s.getState('omemo', 'k')).toEqual(bytes(1, 2, 3))
    })

    it('deleteState removes one key; deleting a missing key is a no-op', async () => {
      const s = ctx.alice()
      await s.setState('omemo', 'a', bytes(1))
      await s.setState('omemo', 'b', bytes(2))
      await s.deleteState('omemo', 'a')
      await s.deleteState('omemo', 'missing')
      await s.deleteState('nowhere', 'a')
      expect(await s.getState('omemo', 'a')).toBeUndefined()
      expect(await s.listState('omemo')).toEqual(['b'])
    })

    it('listState returns the keys sorted, optionally only those with a prefix', async () => {
      const s = ctx.alice()
      for (const k of [
        'session/bob/2',
        'prekey/7',
        'session/bob/10',
        'session/carol/1',
        'session',
        'prekey/10',
      ])
        await s.setState('omemo', k, bytes(1))
      expect(await s.listState('omemo')).toEqual([
        'prekey/10',
        'prekey/7',
        'session',
        'session/bob/10',
        'session/bob/2',
        'session/carol/1',
      ])
      expect(await s.listState('omemo', 'session/bob/')).toEqual(['session/bob/10', 'session/bob/2'])
      expect(await s.listState('omemo', 'session')).toEqual([
        'session',
        'session/bob/10',
        'session/bob/2',
        'session/carol/1',
      ])
      expect(await s.listState('omemo', 'x')).toEqual([])
      expect(await s.listState('omemo', '')).toHaveLength(6)
      expect(await s.listState('unknown')).toEqual([])
    })

    it('listState prefixes are literal (no LIKE or glob wildcards) and order is by code point', async () => {
      const s = ctx.alice()
      for (const k of ['a%b', 'axb', 'a_c', 'a*d', '\u{1F600}', '\uFF61']) await s.setState('ns', k, bytes(1))
      expect(await s.listState('ns', 'a%')).toEqual(['a%b'])
      expect(await s.listState('ns', 'a_')).toEqual(['a_c'])
      expect(await s.listState('ns', 'a*')).toEqual(['a*d'])
      expect(await s.listState('ns')).toEqual(['a%b', 'a*d', 'a_c', 'axb', '\uFF61', '\u{1F600}'])
    })

    it('namespaces are isolated', async () => {
      const s = ctx.alice()
      await s.setState('omemo', 'identity', bytes(1))
      await s.setState('ox', 'identity', bytes(2))
      await s.setState('omemo/x', 'k', bytes(3))
      expect(await s.getState('omemo', 'identity')).toEqual(bytes(1))
      expect(await s.getState('ox', 'identity')).toEqual(bytes(2))
      await s.deleteState('ox', 'identity')
      expect(await s.getState('omemo', 'identity')).toEqual(bytes(1))
      expect(await s.listState('omemo')).toEqual(['identity'])
      expect(await s.listState('omemo/')).toEqual([])
    })
  })
}
