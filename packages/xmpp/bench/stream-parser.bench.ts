/**
 * The strict stream parser (with its caps, `StanzaLimits`) beside `@xmpp/xml`'s ltx parser,
 * in one run: one OMEMO 2 message stanza (962 bytes, `test/fixtures/stream.ts`) written to a
 * long-lived stream, per iteration.
 * `BENCH_ANCHOR=<path>` adds a third task: the `StrictStreamParser` exported by that module
 * (e.g. a copy of `src/stream-parser.ts` at an earlier commit), to measure a change side by side.
 * Reports median latency (tinybench) and CPU time per stanza (process.cpuUsage), since the
 * machines are shared. Run: `pnpm --filter @vouch/xmpp bench:parser`.
 */
import { Bench } from 'tinybench'
import { Parser as LtxParser } from '@xmpp/xml'
import { StrictStreamParser } from '../src/stream-parser.ts'
import { HEADER, OMEMO_MESSAGE as STANZA } from '../test/fixtures/stream.ts'

interface StreamParser {
  write(chunk: string): void
  on(event: string, listener: (...a: unknown[]) => void): unknown
}

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
