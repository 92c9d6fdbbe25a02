/** Small envelope texts for the rule tests (hand-written, in the shape of XEP-0434 v0.6.0 Listing 2). */

export const ALICE = 'alice@example.org'
export const CAROL = 'carol@example.com'
export const T0 = new Date('2024-05-01T12:00:00Z')
export const TRUST_MESSAGE =
  "<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'>" +
  "<key-owner jid='bob@example.com'><trust>aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ=</trust></key-owner>" +
  '</trust-message>'

export interface EnvelopeParts {
  ns?: string
  root?: string
  rpad?: string | null
  time?: string | null
  from?: string | null
  to?: string | null
  content?: string | null
  extra?: string
}

const attr = (v: string): string => v.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;')

/** An envelope; `null` leaves an affix out. Defaults: a valid trust-message envelope from alice to carol at T0. */
export function envelopeXml(p: EnvelopeParts = {}): string {
  const root = p.root ?? 'envelope'
  const parts = [
    p.rpad === null ? '' : `<rpad>${p.rpad ?? 'QHqW2arWFewoERL1a43'}</rpad>`,
    p.time === null ? '' : `<time stamp='${attr(p.time ?? '2024-05-01T12:00:00Z')}'/>`,
    p.from === null ? '' : `<from jid='${attr(p.from ?? `${ALICE}/notebook`)}'/>`,
    p.to === null ? '' : `<to jid='${attr(p.to ?? CAROL)}'/>`,
    p.content === null ? '' : (p.content ?? `<content>${TRUST_MESSAGE}</content>`),
    p.extra ?? '',
  ]
  return `<${root} xmlns='${p.ns ?? 'urn:xmpp:sce:1'}'>${parts.join('')}</${root}>`
}

/** Receiver options for a stanza from alice's notebook to carol, received at T0. */
export const STANZA = Object.freeze({ stanzaFrom: `${ALICE}/notebook`, stanzaTo: CAROL, now: T0 })

/** A chat as the SCE content carries it: `<body xmlns='jabber:client'>` (XEP-0420 §"Business Rules"). */
export const chatBody = (text: string): string => `<body xmlns='jabber:client'>${text}</body>`

/**
 * A trust message with `owners` key owners of `keysPerOwner` OMEMO 2 key ids each (32 bytes,
 * Base64, fixed per position), in the shape of XEP-0434 v0.6.0 Listing 2.
 */
export function trustMessageWithKeys(owners: number, keysPerOwner: number): string {
  const key = (o: number, k: number) =>
    btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => (o * 131 + k * 17 + i * 7) & 0xff)))
  let out = "<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'>"
  for (let o = 0; o < owners; o++) {
    out += `<key-owner jid='contact${o}@example.net'>`
    for (let k = 0; k < keysPerOwner; k++) out += `<trust>${key(o, k)}</trust>`
    out += '</key-owner>'
  }
  return `${out}</trust-message>`
}
