/**
 * Protocol cases (STYLE rule 6): every `test/protocol-cases/xep0434/*.xml` is read with
 * `readTrustMessage` and compared with its `.json`; then the JSON is serialized (always
 * `urn:xmpp:tm:1`, D-1), written as text, read again and compared. Fixtures are copied from the
 * examples of XEP-0434 v0.6.0 (Base64), the early hex draft and XEP-0450 v0.1.0 (legacy).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Element, TrustMessageJson } from '../src/index.ts'
import {
  NS_TM_1,
  parseTrustMessageXml,
  parseXml,
  readTrustMessage,
  serializeTrustMessage,
  trustMessageFromJson,
  trustMessageToJson,
} from '../src/index.ts'

const DIR = join(import.meta.dirname, 'protocol-cases', 'xep0434')
const names = readdirSync(DIR)
  .filter((f) => f.endsWith('.xml'))
  .map((f) => f.slice(0, -4))
  .sort()

interface ErrorCase {
  readonly error: { readonly name: string; readonly rule: string }
  readonly withUsage: string
  readonly sameKeysAs: string
}
const load = (name: string): { xml: string; json: TrustMessageJson | ErrorCase } => ({
  xml: readFileSync(join(DIR, `${name}.xml`), 'utf8'),
  json: JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as TrustMessageJson | ErrorCase,
})
const isError = (j: TrustMessageJson | ErrorCase): j is ErrorCase => 'error' in j

function findTrustMessageElement(el: Element): Element | undefined {
  if (el.getName() === 'trust-message') return el
  for (const c of el.getChildElements()) {
    const found = findTrustMessageElement(c)
    if (found) return found
  }
  return undefined
}

describe('XEP-0434 protocol cases', () => {
  it('has fixtures from all three seed documents', () => {
    expect(names.filter((n) => n.startsWith('xep0434-v0.6.0-')).length).toBeGreaterThanOrEqual(2)
    expect(names.filter((n) => n.startsWith('xep0434-early-draft-')).length).toBeGreaterThanOrEqual(2)
    expect(names.filter((n) => n.startsWith('xep0450-v0.1.0-')).length).toBe(8)
  })

  for (const name of names) {
    const { xml, json } = load(name)
    if (isError(json)) {
      it(`${name}: rejected with ${json.error.rule} (${json.error.name}) even with legacy`, () => {
        expect(() => parseTrustMessageXml(xml, { legacy: true })).toThrowError(
          expect.objectContaining(json.error),
        )
      })
      it(`${name}: with usage added, holds the same key bytes as ${json.sameKeysAs} (TM-ATM.md §2.6)`, () => {
        const root = parseXml(xml)
        const tm = findTrustMessageElement(root)!
        tm.attrs.usage = json.withUsage
        const read = trustMessageToJson(readTrustMessage(root, { legacy: true }))
        const expected = load(json.sameKeysAs).json as TrustMessageJson
        expect(read.keyOwners).toEqual(expected.keyOwners)
        expect(read.usage).toBe(json.withUsage)
      })
      continue
    }
    const legacy = json.namespace !== NS_TM_1
    it(`${name}: XML → model equals the JSON`, () => {
      expect(trustMessageToJson(parseTrustMessageXml(xml, { legacy }))).toEqual(json)
    })
    it(`${name}: JSON → XML (urn:xmpp:tm:1, D-1) → model is the same message`, () => {
      const parsed = trustMessageFromJson(json, { legacy })
      const text = serializeTrustMessage(parsed.message).toString()
      const again = parseTrustMessageXml(text)
      expect(again.namespace).toBe(NS_TM_1)
      expect(trustMessageToJson(again)).toEqual({ ...json, namespace: NS_TM_1 })
    })
    if (legacy)
      it(`${name}: TM-4: the legacy namespace is refused without the legacy option`, () => {
        expect(() => parseTrustMessageXml(xml)).toThrowError(
          expect.objectContaining({
            name: 'InvalidTrustMessageError',
            rule: expect.stringMatching(/^TM-(4|16)$/),
          }),
        )
      })
  }
})
