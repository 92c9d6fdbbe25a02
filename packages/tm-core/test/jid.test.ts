import { describe, expect, it } from 'vitest'
import { parseBareJid, parseFullJid, parseJid, sameBareJid, toBareJid } from '../src/index.ts'

describe('JIDs (RFC 7622, strict)', () => {
  it('normalises local and domain parts to lower case and keeps the resource', () => {
    expect(parseJid('Alice@Example.ORG/Phone')).toEqual({
      local: 'alice',
      domain: 'example.org',
      resource: 'Phone',
    })
    expect(toBareJid('Alice@Example.ORG/Phone')).toBe('alice@example.org')
    expect(parseFullJid('a@b/c')).toBe('a@b/c')
    expect(parseBareJid('example.org')).toBe('example.org')
  })
  it('splits at the first slash, so a resource may contain @ and /', () => {
    expect(parseJid('a@b/c@d/e')).toEqual({ local: 'a', domain: 'b', resource: 'c@d/e' })
  })
  it('D-3: compares bare parts', () => {
    expect(sameBareJid('Alice@example.org/x', 'alice@EXAMPLE.org')).toBe(true)
    expect(sameBareJid('alice@example.org', 'bob@example.org')).toBe(false)
    expect(sameBareJid('not a jid', 'not a jid')).toBe(false)
  })
  const bad: [string, string][] = [
    ['', 'empty'],
    ['@example.org', 'empty localpart'],
    ['a@', 'empty domain'],
    ['a@b/', 'empty resource'],
    ['a b@example.org', 'space in localpart'],
    ['a"b@example.org', 'quote in localpart'],
    ['a@exa mple.org', 'space in domain'],
    ['a@example..org', 'empty label'],
    ['al\u202Eice@example.org', 'bidi override'],
    ['alice\u200B@example.org', 'zero-width space'],
    ['a@b/\u0000', 'control in resource'],
    [`${'a'.repeat(1024)}@example.org`, 'localpart over 1023 bytes'],
  ]
  for (const [input, why] of bad) {
    it(`rejects ${why}`, () => {
      expect(() => parseJid(input, 'TM-8')).toThrowError(
        expect.objectContaining({ name: 'InvalidJidError', rule: 'TM-8' }),
      )
    })
  }
  it('parseBareJid rejects a full JID and parseFullJid a bare one', () => {
    expect(() => parseBareJid('a@b/c')).toThrowError(expect.objectContaining({ name: 'InvalidJidError' }))
    expect(() => parseFullJid('a@b')).toThrowError(expect.objectContaining({ name: 'InvalidJidError' }))
  })
})
