/**
 * Codec benchmark (tinybench): a two-owner XEP-0434 v0.6.0 trust message (the §5.2.1 Listing 2
 * content), parsed from a string through the strict XML reader (`parseXml`), validated, and
 * serialized back to a string; and serialization alone. Run: `pnpm --filter @vouch/tm-core bench`.
 *
 * The machines are shared, so besides tinybench's wall-clock figures each task is also timed in
 * CPU time (`process.cpuUsage`), which other processes disturb much less.
 */
import { Bench } from 'tinybench'
import {
  parseTrustMessageXml,
  parseXml,
  serializeTrustMessage,
  serializeTrustMessageXml,
} from '../src/index.ts'

const PRETTY = `<trust-message xmlns='urn:xmpp:tm:1' usage='urn:xmpp:atm:1' encryption='urn:xmpp:omemo:2'>
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
const { message } = parseTrustMessageXml(PRETTY)
/** the wire form our serializer (and QXmpp) emits: no indentation */
const COMPACT = serializeTrustMessageXml(message)
let sink = 0

const tasks: Record<string, () => void> = {
  'parse + validate + serialize (string → string, compact input)': () => {
    sink += serializeTrustMessageXml(parseTrustMessageXml(COMPACT).message).length
  },
  'parse + validate + serialize (string → string, indented input)': () => {
    sink += serializeTrustMessageXml(parseTrustMessageXml(PRETTY).message).length
  },
  'parse + validate + serialize via Element.toString()': () => {
    sink += serializeTrustMessage(parseTrustMessageXml(COMPACT).message).toString().length
  },
  'parse + validate (string → model)': () => {
    sink += parseTrustMessageXml(COMPACT).message.keyOwners.length
  },
  'parseXml alone (strict XML reader, not the codec)': () => {
    sink += parseXml(COMPACT).children.length
  },
  'serialize (model → validate → string)': () => {
    sink += serializeTrustMessageXml(message).length
  },
  'serialize (model → validate → Element → toString)': () => {
    sink += serializeTrustMessage(message).toString().length
  },
}

const bench = new Bench({ name: 'XEP-0434 codec', time: 1500, warmupTime: 300 })
for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn)
await bench.run()

/** µs of CPU time per call over `n` calls */
function cpuMicros(fn: () => void, n = 100_000): number {
  const start = process.cpuUsage()
  for (let i = 0; i < n; i++) fn()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / n
}

const rows = bench.tasks.map((task) => {
  const r = task.result
  const fn = tasks[task.name]!
  const cpu = cpuMicros(fn)
  if (r === undefined || !('latency' in r)) return { task: task.name, 'ops/s': 'n/a' }
  return {
    task: task.name,
    'ops/s (wall)': Math.round(r.throughput.mean).toLocaleString('en-US'),
    'median latency (µs)': (r.latency.p50 * 1000).toFixed(2),
    'p99 latency (µs)': (r.latency.p99 * 1000).toFixed(2),
    'ops/s (CPU time)': Math.round(1e6 / cpu).toLocaleString('en-US'),
  }
})
console.log(`XEP-0434 codec, two key owners, 5 key ids; input ${COMPACT.length} chars (compact)`)
console.table(rows)
if (sink === 0) console.log('unreachable')
