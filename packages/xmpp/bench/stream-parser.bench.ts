/**
 * The strict stream parser (with its caps, `StanzaLimits`) beside `@xmpp/xml`'s ltx parser,
 * in one run: one OMEMO 2 message stanza (about 1 KB, as in
 * `test/security/strict-stream-parser.test.ts`) written to a long-lived stream, per iteration.
 * `BENCH_ANCHOR=<path>` adds a third task: the `StrictStreamParser` exported by that module
 * (e.g. a copy of `src/stream-parser.ts` at an earlier commit), to measure a change side by side.
 * Reports median latency (tinybench) and CPU time per stanza (process.cpuUsage), since the
 * machines are shared. Run: `pnpm --filter @vouch/xmpp bench:parser`.
 */
import { Bench } from 'tinybench'
import { Parser as LtxParser } from '@xmpp/xml'
import { StrictStreamParser } from '../src/stream-parser.ts'

interface StreamParser {
  write(chunk: string): void
  on(event: string, listener: (...a: unknown[]) => void): unknown
}

const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "id='0b2f6c4e-3a55-4f51-9d1c-5f3e2a7c1b90' from='localhost' version='1.0' xml:lang='en'>"
const STANZA =
  "<message xmlns='jabber:client' from='bob@localhost/phone' to='alice@localhost/laptop' type='chat' id='7c3d1e9a'>" +
  "<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1384902211'><keys jid='alice@localhost'>" +
  "<key rid='967312449' kex='true'>MwohBbL5SkSV1ucrBMR3VdGCgDu2Z2wdSQ9N1qsVEmD6NbBgEiEFCB3Wv8/iZnbR/HnWwYSBGKiSX8ZlBuqC8TTGa/m3lAIaQO5DuKXHiAAQWlvbGFuLXZvdWNoLWtleQ==</key>" +
  "<key rid='20115421'>MwohBRhCb0ZmL0c1yoKkyT3Rm1h2XzMsDqVp8fMLyiTA6TNUEAEYACIwD1vQxI4KZk6vY9bx+7FgPrFxZc1U2Oz4n3YgTtq6gL+Xh6fYQmk=</key></keys>" +
  "<keys jid='bob@localhost'><key rid='1384902212'>MwohBTr4vQ6Oi8yG0pVm2ytGkLe6FQ3a8gqE1D8aZb8ZkNJWEAEYACIw3n0tFq7lS5Q2LJ8VkV0w==</key></keys></header>" +
  '<payload>nCeA9hO3MLGaWZ7bDcbtr6ZfpJw+U4SI2DCt9n5wlw6bH7LqzAyfnEaQZtGfNF4W6Dq1gG7ZkTkp</payload></encrypted>' +
  "<store xmlns='urn:xmpp:hints'/><origin-id xmlns='urn:xmpp:sid:0' id='b1f2d7d6-5b43-4ef8-a1b9-6ac0f4a30d62'/>" +
  "<stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='wv5pTvjVhyZ1eVtb'/></message>"

const parsers: [string, new () => StreamParser][] = [
  ['strict parser (caps, this commit)', StrictStreamParser as unknown as new () => StreamParser],
  ['ltx (@xmpp/xml Parser)', LtxParser as unknown as new () => StreamParser],
]
const anchor = process.env.BENCH_ANCHOR
if (anchor !== undefined) {
  const mod = (await import(anchor)) as { StrictStreamParser: new () => StreamParser }
  parsers.push([`strict parser (anchor: ${anchor})`, mod.StrictStreamParser])
}

const bench = new Bench({ name: 'stream parser', time: 2000, warmupTime: 300 })
const cpu = new Map<string, { micros: number; n: number }>()
for (const [name, P] of parsers) {
  const parser = new P()
  let elements = 0
  parser.on('element', () => {
    elements++
  })
  parser.on('error', (e) => {
    throw e
  })
  parser.write(HEADER)
  bench.add(name, () => {
    const before = process.cpuUsage()
    parser.write(STANZA)
    const used = process.cpuUsage(before)
    const c = cpu.get(name) ?? { micros: 0, n: 0 }
    c.micros += used.user + used.system
    c.n++
    cpu.set(name, c)
    if (elements === 0) throw new Error(`${name} emitted nothing`)
  })
}
await bench.run()
const bytes = new TextEncoder().encode(STANZA).length
console.log(`one ${bytes}-byte OMEMO 2 stanza per iteration`)
const rows = bench.tasks.map((t) => {
  const r = t.result as { latency?: { p50?: number } } | undefined
  const c = cpu.get(t.name)
  return {
    task: t.name,
    'median (µs)': ((r?.latency?.p50 ?? 0) * 1000).toFixed(2),
    'CPU mean (µs)': c === undefined ? '-' : (c.micros / c.n).toFixed(2),
  }
})
console.table(rows)
