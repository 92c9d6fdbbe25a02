/**
 * One runner for the XEP-0420 wire fixtures in `protocol-cases/xep0420/`: each `.xml` is copied
 * from a XEP example (the file's comment cites the section), each `.json` lists cases with the
 * options of the stanza around it and the expected result (or the expected typed error).
 * Forward: open the XML and compare with the JSON. Backward: build an envelope from the JSON and
 * check that opening it gives the same JSON (rpad content is random, so only its length matches).
 */
import { parseXml } from '@vouch/tm-core'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { OpenEnvelopeOptions } from '../src/index.ts'
import { buildEnvelope, envelopeToJson, openEnvelope, serializeEnvelope } from '../src/index.ts'
import { expectRejected, seededRandom } from './helpers.ts'

interface CaseOptions {
  stanzaFrom: string
  stanzaTo: string
  now: string
  stanzaTime?: string
  legacy?: boolean
  marginSeconds?: number
  require?: { rpad?: boolean; time?: boolean; from?: boolean; to?: boolean }
}
interface Expected {
  namespace: string
  legacy: boolean
  time: string | null
  from: string | null
  to: string | null
  rpadLength: number
  content: string
}
interface Case {
  name: string
  options: CaseOptions
  expected?: Expected
  error?: { name: string; rule: string }
}

const dir = join(import.meta.dirname, 'protocol-cases', 'xep0420')
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()

function toOptions(o: CaseOptions): OpenEnvelopeOptions {
  const { now, stanzaTime, ...rest } = o
  return {
    ...rest,
    now: new Date(now),
    ...(stanzaTime === undefined ? {} : { stanzaTime: new Date(stanzaTime) }),
  }
}

describe('XEP-0420 protocol cases', () => {
  it('has fixtures, each with its XML', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(6)
    for (const f of fixtures) expect(readdirSync(dir)).toContain(f.replace(/\.json$/, '.xml'))
  })

  for (const file of fixtures) {
    const spec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { source: string; cases: Case[] }
    const xmlText = readFileSync(join(dir, file.replace(/\.json$/, '.xml')), 'utf8')
    describe(`${file} (${spec.source})`, () => {
      for (const c of spec.cases) {
        const { expected, error } = c
        if (error !== undefined) {
          it(`invalid: ${c.name}`, () => {
            expectRejected(() => openEnvelope(xmlText, toOptions(c.options)), error.name, error.rule, c.name)
          })
          continue
        }
        if (expected === undefined) throw new Error(`${file}: case "${c.name}" has no expectation`)
        it(`valid: ${c.name}`, () => {
          const opened = openEnvelope(xmlText, toOptions(c.options))
          expect({ namespace: opened.namespace, legacy: opened.legacy, ...envelopeToJson(opened) }).toEqual(
            expected,
          )
        })
        const { time, from, to } = expected
        if (time !== null && from !== null && to !== null && !expected.legacy) {
          it(`valid (built back from the JSON): ${c.name}`, () => {
            const children = parseXml(expected.content).getChildElements()
            const built = buildEnvelope({
              content: children,
              from,
              to,
              time: new Date(time),
              // the exact rpad length of the case: no D-7 fill
              rpad: { minLength: expected.rpadLength, maxLength: expected.rpadLength, minEnvelopeBytes: 0 },
              random: seededRandom(7),
            })
            const reopened = openEnvelope(serializeEnvelope(built), toOptions(c.options))
            const json = envelopeToJson(reopened)
            expect({ ...json, content: undefined }).toEqual({
              ...expected,
              content: undefined,
              namespace: undefined,
              legacy: undefined,
            })
            expect(reopened.content.getChildElements().map(String)).toEqual(children.map(String))
          })
        }
      }
    })
  }
})
