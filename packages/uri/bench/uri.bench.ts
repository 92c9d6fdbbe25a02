/**
 * Trust Message URI benchmark (tinybench): XEP-0434 v0.6.0 §9.1.1 Listing 3 (Bob's URI, one
 * trust and two distrust OMEMO 2 ids) parsed in strict mode and formatted back; plus QR
 * rendering for scale. Run: `pnpm --filter @vouch/uri bench`.
 */
import { Bench } from 'tinybench'
import { formatTrustMessageUri, parseTrustMessageUri, trustMessageUriQr } from '../src/index.ts'

const URI =
  'xmpp:bob@example.com?trust-message;encryption=urn:xmpp:omemo:2' +
  ';trust=623548d3835c6d33ef5cb680f7944ef381cf712bf23a0119dabe5c4f252cd02f' +
  ';distrust=b423f5088de9a924d51b31581723d850c7cc67d0a4fe6b267c3d301ff56d2413' +
  ';distrust=d9f849b6b828309c5f2c8df4f38fd891887da5aaa24a22c50d52f69b4a80817e'
const ENCODED = URI.replace('bob@example.com', '%C3%A9lo%C3%AFse%3Bx@b%C3%BCcher.example')

const parsed = parseTrustMessageUri(URI)
let sink = 0

const bench = new Bench({ name: 'XEP-0434 Trust Message URI', time: 2000, warmupTime: 500 })
bench
  .add('parse (strict, spec example)', () => {
    sink += parseTrustMessageUri(URI).distrust.length
  })
  .add('parse (strict, percent-encoded non-ASCII JID)', () => {
    sink += parseTrustMessageUri(ENCODED).distrust.length
  })
  .add('format (spec example)', () => {
    sink += formatTrustMessageUri(parsed).length
  })
  .add('parse + format round trip', () => {
    sink += formatTrustMessageUri(parseTrustMessageUri(URI)).length
  })
  .add('QR svg (qrcode, level M)', async () => {
    sink += (await trustMessageUriQr(URI, { format: 'svg' })).length
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
if (sink === 0) console.log('(sink)')
