/**
 * One runner for `protocol-cases/xep0434-uri/*.txt` + `.json` (XEP-0434 v0.6.0 §9.1.1).
 * Each `.txt` holds one URI (a final newline is not part of it); its `.json` lists cases of
 * parser options with either the expected value (in the CLI JSON form) or the expected error.
 * A value case also checks the other direction: formatting the JSON value gives `formatted`
 * (or the `.txt` itself when `formatted` is absent).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  formatTrustMessageUri,
  type ParseTrustMessageUriOptions,
  parseTrustMessageUri,
  type TrustMessageUriJson,
  uriFromJson,
  uriToJson,
} from '../src/index.ts'

interface Case {
  readonly options: ParseTrustMessageUriOptions
  readonly uri?: TrustMessageUriJson
  readonly error?: { readonly name: string; readonly rule: string }
}
interface Fixture {
  readonly comment: string
  readonly cases: readonly Case[]
  readonly formatted?: string
}

const dir = fileURLToPath(new URL('./protocol-cases/xep0434-uri/', import.meta.url))
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => f.slice(0, -4))
  .sort()

describe('protocol cases: XEP-0434 v0.6.0 §9.1.1 Trust Message URIs', () => {
  it('has fixtures, each with its .json', () => {
    expect(names.length).toBeGreaterThanOrEqual(10)
    for (const name of names) expect(readdirSync(dir)).toContain(`${name}.json`)
  })

  for (const name of names) {
    const text = readFileSync(`${dir}${name}.txt`, 'utf8').replace(/\n$/, '')
    const fixture = JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as Fixture
    describe(`${name}: ${fixture.comment}`, () => {
      for (const [i, c] of fixture.cases.entries()) {
        const mode = `#${i} ${JSON.stringify(c.options)}`
        if (c.uri !== undefined) {
          const expected = c.uri
          it(`valid ${mode}: parses to the JSON value, which formats back to the canonical URI`, () => {
            expect(uriToJson(parseTrustMessageUri(text, c.options))).toEqual(expected)
            expect(formatTrustMessageUri(uriFromJson(expected))).toBe(fixture.formatted ?? text)
          })
        } else {
          const error = c.error
          it(`invalid ${mode}: ${error?.name} ${error?.rule}`, () => {
            expect(() => parseTrustMessageUri(text, c.options)).toThrow(expect.objectContaining(error ?? {}))
          })
        }
      }
    })
  }
})
