/**
 * `pnpm --filter @vouch/sce bench`: build+serialize and parse+open of a trust-message envelope
 * (the XEP-0434 v0.6.0 Listing 2 payload: two key owners, five key ids), and build+serialize of a
 * short chat, with the default rpad (D-7 fill to 1024 bytes, then 0–200) and with the fill off.
 */
import { parseXml } from '@vouch/tm-core'
import { Bench } from 'tinybench'
import type { BuildEnvelopeInit } from '../src/index.ts'
import { buildEnvelope, openEnvelope, serializeEnvelope } from '../src/index.ts'

const trustMessage = parseXml(
  "<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'>" +
    "<key-owner jid='alice@example.org'><trust>aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ=</trust>" +
    '<trust>IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vT0luHEUehkgCA=</trust></key-owner>' +
    "<key-owner jid='bob@example.com'><trust>YjVI04NcbTPvXLaA95R084HPcSvy0gEZ2r5cTyUs0C8=</trust>" +
    '<distrust>tCP1CI3pqSTVGzFYFyPYUMfMZ9Ck/msmfD0wH/VtJBM=</distrust>' +
    '<distrust>2fhJtrgoMJxfLI3084/YkYh9paqiSiLFDVL2m0qAgX4=</distrust></key-owner></trust-message>',
)
const chat = parseXml("<body xmlns='jabber:client'>See you at 8?</body>")
const time = new Date('2024-05-01T12:00:00Z')
const init = { content: trustMessage, from: 'alice@example.org/notebook', to: 'carol@example.com', time }
const chatInit = { ...init, content: chat }
const noFill = { minEnvelopeBytes: 0 }
const wire = serializeEnvelope(buildEnvelope(init))
const parsed = parseXml(wire)
const options = { stanzaFrom: 'alice@example.org/notebook', stanzaTo: 'carol@example.com', now: time }

const bench = new Bench({ time: 1000 })
bench
  .add('build + serialize trust message (fill to 1024 B + 0–200)', () => {
    serializeEnvelope(buildEnvelope(init))
  })
  .add('build + serialize trust message (fill off, 0–200)', () => {
    serializeEnvelope(buildEnvelope({ ...init, rpad: noFill }))
  })
  .add('build + serialize short chat (fill to 1024 B + 0–200)', () => {
    serializeEnvelope(buildEnvelope(chatInit))
  })
  .add('build + serialize short chat (fill off, 0–200)', () => {
    serializeEnvelope(buildEnvelope({ ...chatInit, rpad: noFill }))
  })
  .add('parse + open (all checks)', () => {
    openEnvelope(wire, options)
  })
  .add('open a parsed element (checks only)', () => {
    openEnvelope(parsed, options)
  })

await bench.run()
const size = (i: BuildEnvelopeInit) => Buffer.byteLength(serializeEnvelope(buildEnvelope(i)), 'utf8')
console.log(
  `envelope bytes, one build each — trust message: ${size(init)} (fill off: ${size({ ...init, rpad: noFill })}); ` +
    `short chat: ${size(chatInit)} (fill off: ${size({ ...chatInit, rpad: noFill })})`,
)
console.table(bench.table())
