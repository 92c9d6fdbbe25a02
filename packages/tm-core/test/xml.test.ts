import { describe, expect, it } from 'vitest'
import { parseXml } from '../src/index.ts'

describe('strict XML reader', () => {
  it('parses a nested document with namespaces and entities', () => {
    const el = parseXml('<?xml version="1.0"?>\n<a xmlns="x"><b c="1">t&amp;u</b><b/></a>')
    expect(el.toString()).toBe('<a xmlns="x"><b c="1">t&amp;u</b><b/></a>')
    expect(el.getChildren('b')).toHaveLength(2)
  })
  const bad: [string, string][] = [
    ['<a><b></a>', 'MalformedXmlError'],
    ['<a>', 'MalformedXmlError'],
    ['<a/><b/>', 'MalformedXmlError'],
    ['<a/>trailing', 'MalformedXmlError'],
    ['garbage', 'MalformedXmlError'],
    ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', 'MalformedXmlError'],
    ['<a>&bogus;</a>', 'MalformedXmlError'],
    ['<a b=c/>', 'MalformedXmlError'],
    ['<1a/>', 'MalformedXmlError'],
    ['<a><?pi x?></a>', 'MalformedXmlError'],
    ['', 'MalformedXmlError'],
    [`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`, 'LimitExceededError'],
  ]
  for (const [input, name] of bad) {
    it(`rejects ${JSON.stringify(input.slice(0, 30))} with ${name}`, () => {
      expect(() => parseXml(input)).toThrowError(expect.objectContaining({ name }))
    })
  }
  it('caps the input size', () => {
    expect(() => parseXml(`<a>${'x'.repeat(100)}</a>`, { maxChars: 50 })).toThrowError(
      expect.objectContaining({ name: 'LimitExceededError' }),
    )
  })
})
