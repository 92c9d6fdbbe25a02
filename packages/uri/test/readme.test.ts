// The README "Use" example, compiled by `pnpm typecheck` and run here (STYLE.md rule 13).
import { describe, expect, it } from 'vitest'
import { formatTrustMessageUri, parseTrustMessageUri, trustMessageUriQr, uriToJson } from '../src/index.ts'

describe('README', () => {
  it('URI-1: the Use example runs as documented', async () => {
    const scanned =
      'xmpp:bob@example.com?trust-message;encryption=urn:xmpp:omemo:2' +
      ';trust=623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f'

    const uri = parseTrustMessageUri(scanned, { expectedJid: 'bob@example.com' })
    expect(uri.trust).toEqual(['YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8='])
    expect(JSON.stringify(uriToJson(uri))).toBe(
      '{"jid":"bob@example.com","encryption":"urn:xmpp:omemo:2","trust":["623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f"],"distrust":[]}',
    )
    const text = formatTrustMessageUri(uri)
    expect(text).toBe(scanned)
    expect(await trustMessageUriQr(text, { format: 'text' })).toContain('█')
    const png: Uint8Array = await trustMessageUriQr(text, { format: 'png' })
    expect(png.length).toBeGreaterThan(100)
  })
})
