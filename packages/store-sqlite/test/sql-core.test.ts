import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { sqliteStore } from '../src/index.ts'
import { prefixUpperBound } from '@vouch/store-sqlite/sql-core'
import { ME } from './helpers.ts'

describe('sql-core: listState is an index range', () => {
  it('prefixUpperBound is the smallest string after every string with the prefix (code point order)', () => {
    expect(prefixUpperBound('ab')).toBe('ac')
    expect(prefixUpperBound('a\u{10FFFF}')).toBe('b')
    expect(prefixUpperBound('\u{10FFFF}\u{10FFFF}')).toBeUndefined()
    expect(prefixUpperBound('a\uD7FF')).toBe('a\uE000') // skips the surrogates
    expect(prefixUpperBound('a\uFFFF')).toBe('a\u{10000}')
    expect(prefixUpperBound('a\u{1F600}')).toBe('a\u{1F601}')
    expect(prefixUpperBound('a\uD800')).toBeUndefined() // a lone surrogate: no range
  })

  it('answers exactly String#startsWith at the edges of the range', async () => {
    const store = await sqliteStore({ database: ':memory:' })
    const a = store.forAccount(ME)
    const keys = [
      'a',
      'ab',
      'ac',
      'a\uD7FF',
      'a\uD7FFx',
      'a\uE000',
      'a\uFFFF',
      'a\uFFFFz',
      'a\u{10000}',
      'a\u{10FFFF}',
      'a\u{10FFFF}q',
      'b',
      '\u{10FFFF}',
      '\u{10FFFF}\u{10FFFF}',
      '\u{10FFFF}\u{10FFFF}!',
    ]
    for (const k of keys) await a.setState('ns', k, new Uint8Array([1]))
    await a.setState('other', 'ab', new Uint8Array([1]))
    for (const prefix of [
      'a',
      'ab',
      'a\uD7FF',
      'a\uFFFF',
      'a\u{10FFFF}',
      '\u{10FFFF}',
      '\u{10FFFF}\u{10FFFF}',
      'z',
    ]) {
      const want = keys.filter((k) => k.startsWith(prefix))
      expect(new Set(await a.listState('ns', prefix))).toEqual(new Set(want))
    }
    await store.close()
  })

  it('uses the primary key with both bounds (EXPLAIN QUERY PLAN)', async () => {
    const raw = new Database(':memory:')
    const seen: string[] = []
    const spy = {
      prepare: (sql: string) => {
        seen.push(sql)
        return raw.prepare(sql)
      },
      close: () => raw.close(),
    }
    const store = await sqliteStore({ database: spy as unknown as Database.Database })
    await store.forAccount(ME).listState('ns', 'sess:')
    const text = seen.find((s) => /from "vouch_backend_state"/.test(s) && /"key" </.test(s))
    expect(text).toBeDefined()
    const plan = raw
      .prepare(`explain query plan ${text}`)
      .all(...Array.from({ length: (text ?? '').split('?').length - 1 }, () => 'x'))
      .map((r) => (r as { detail: string }).detail)
      .join('\n')
    expect(plan).toMatch(/key>\? AND key<\?/)
    await store.close()
    raw.close()
  })
})
