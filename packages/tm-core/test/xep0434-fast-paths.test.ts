/**
 * The codec's hot-path checks must agree with the reference helpers they short-cut:
 * `isCanonicalBase64` with keyid.ts `parseKeyIdBase64` (TM-10), `bareJidTm8` with jid.ts
 * `parseBareJid` (TM-8), and jid.ts's ASCII fast paths with PRECIS UsernameCaseMapped and
 * UTS #46 (RFC 7622).
 */
import fc from 'fast-check'
import { toUnicode } from 'tr46'
import { describe, expect, it } from 'vitest'
import { parseBareJid, parseJid, parseKeyIdBase64 } from '../src/index.ts'
import { usernameCaseMapped } from '../src/precis.ts'
import { bareJidTm8 } from '../src/xep0434/model.ts'
import { isCanonicalBase64 } from '../src/xep0434/namespaces.ts'

const outcome = (f: () => string): string => {
  try {
    return `ok:${f()}`
  } catch (e) {
    return `${(e as Error).name}:${(e as { rule?: string }).rule}`
  }
}

const b64char = fc.constantFrom(
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=QAgw ='.split(''),
)
const b64ish = fc.oneof(
  fc.array(b64char, { maxLength: 16 }).map((a) => a.join('')),
  fc.uint8Array({ maxLength: 40 }).map((b) => btoa(String.fromCharCode(...b))),
  fc.string(),
)

describe('fast paths agree with the reference helpers', () => {
  it('TM-10: isCanonicalBase64 accepts exactly what parseKeyIdBase64 accepts unchanged', () => {
    fc.assert(
      fc.property(b64ish, (s) => {
        const ref = outcome(() => parseKeyIdBase64(s, 'TM-10'))
        expect(isCanonicalBase64(s)).toBe(ref === `ok:${s}`)
      }),
      { numRuns: 5000 },
    )
  })
  it('TM-10: every padding variant of a short input agrees', () => {
    for (const a of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
      for (const s of [`A${a}==`, `AA${a}=`, `${a}A==`])
        expect(isCanonicalBase64(s)).toBe(outcome(() => parseKeyIdBase64(s)) === `ok:${s}`)
  })
  it('TM-8: bareJidTm8 returns what parseBareJid returns, or throws the same error', () => {
    const jidish = fc.oneof(
      fc.stringMatching(/^[a-zA-Z0-9._+@/ -]{0,20}$/),
      fc.stringMatching(/^[\x21-\x7e]{0,20}$/),
      fc.string({ maxLength: 20 }),
      fc.constantFrom('a@b', 'a@b.', 'a@.b', '@b', 'a@', 'A@b', 'a@b/c', 'x'.repeat(1024)),
    )
    fc.assert(
      fc.property(jidish, (s) => {
        expect(outcome(() => bareJidTm8(s))).toBe(outcome(() => parseBareJid(s, 'TM-8')))
      }),
      { numRuns: 5000 },
    )
  })
  it('RFC 7622: an ASCII localpart reads as PRECIS UsernameCaseMapped reads it', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x20-\x7e]{1,12}$/), (local) => {
        fc.pre(!local.includes('@') && !local.includes('/'))
        const r = usernameCaseMapped(local)
        const ref =
          r.error !== undefined || /["&'/:<>@]/.test(r.value) ? 'InvalidJidError:TM-8' : `ok:${r.value}`
        expect(outcome(() => parseJid(`${local}@example.org`, 'TM-8').local ?? '')).toBe(ref)
      }),
      { numRuns: 5000 },
    )
  })
  it('RFC 7622: an ASCII domainpart reads as UTS #46 reads it', () => {
    const label = fc.stringMatching(/^[A-Za-z0-9-]{1,8}$/)
    const opts = { checkHyphens: true, checkBidi: true, checkJoiners: true, useSTD3ASCIIRules: true }
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 3 }), (labels) => {
        const domain = labels.join('.')
        const r = toUnicode(domain, opts)
        expect(outcome(() => parseJid(`a@${domain}`, 'TM-8').domain)).toBe(
          r.error ? 'InvalidJidError:TM-8' : `ok:${r.domain}`,
        )
      }),
      { numRuns: 5000 },
    )
  })
})
