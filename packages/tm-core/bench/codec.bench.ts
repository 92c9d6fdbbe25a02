/**
 * Codec benchmark (tinybench): a two-owner XEP-0434 v0.6.0 trust message (the §5.2.1 example's
 * content), parsed from a string through the strict XML reader, validated, and serialized back
 * to a string; and serialization alone. Run: `pnpm --filter @vouch/tm-core bench`.
 */
import { Bench } from 'tinybench'
import { parseTrustMessageXml, serializeTrustMessage } from '../src/index.ts'

const XML = `<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'>
  <key-owner jid='alice@example.org'>
    <trust>aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ=</trust>
    <trust>IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA=</trust>
  </key-owner>
  <key-owner jid='bob@example.com'>
    <trust>YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8=</trust>
    <distrust>tCP1CI3pqSTVGzFYFyPYUMfMZ9Ck/msmfD0wH/VtJBM=</distrust>
    <distrust>2fhJtrgoMJxfLI3084/YkYh9paqiSiLFDVL2m0qAgX4=</distrust>
  </key-owner>
</trust-message>`

const { message } = parseTrustMessageXml(XML)
let sink = 0

const bench = new Bench({ name: 'XEP-0434 codec', time: 2000, warmupTime: 500 })
bench
  .add('parse (string → parseXml → validate) + serialize (→ string)', () => {
    const parsed = parseTrustMessageXml(XML)
    sink += serializeTrustMessage(parsed.message).toString().length
  })
  .add('parse + validate only (string → model)', () => {
    sink += parseTrustMessageXml(XML).message.keyOwners.length
  })
  .add('serialize only (model → validate → string)', () => {
    sink += serializeTrustMessage(message).toString().length
  })

await bench.run()

const rows = bench.tasks.map((task) => {
  const r = task.result
  if (r === undefined || !('latency' in r)) return { task: task.name, 'ops/s': 'n/a' }
  return {
    task: task.name,
    'ops/s': Math.round(r.throughput.mean).toLocaleString('en-US'),
    'median latency (µs)': (r.latency.p50 * 1000).toFixed(2),
    'p99 latency (µs)': (r.latency.p99 * 1000).toFixed(2),
    samples: r.latency.samplesCount,
  }
})
console.table(rows)
if (sink === 0) console.log('unreachable')
