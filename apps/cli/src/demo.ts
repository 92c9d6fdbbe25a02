/**
 * `pnpm demo` (`tsx apps/cli/src/demo.ts`): a guided tour, composition only.
 * 1. The XEP-0434 v0.6.0 example trust message, built and serialized.
 * 2. Bob's Trust Message URI from the XEP-0434 example and its QR code.
 * 3. `vouch simulate --accounts alice:3,bob:1`, step by step, ending with a one-paragraph summary.
 */
import type { TrustMessage } from '@vouch/tm-core'
import { NS_ATM_1, NS_OMEMO_2, parseBareJid, parseKeyIdBase64, serializeTrustMessage } from '@vouch/tm-core'
import { formatTrustMessageUri, trustMessageUriQr } from '@vouch/uri'
import { closeSimulation, renderSimulation, simulate } from './commands/simulate.ts'
import { runServerDemo } from './demo-server.ts'
import { processOutput } from './io.ts'

// `pnpm demo --server`: the same story on a real, local Prosody (issue: the XMPP binding)
if (process.argv.includes('--server')) {
  process.exit(await runServerDemo({ output: processOutput, stdin: process.stdin }))
}

// `pnpm demo --web`: the story in the browser (apps/web): Prosody and the page; prints the address
if (process.argv.includes('--web')) {
  const web = new URL('../../web/src/serve.ts', import.meta.url).href
  const { runWebDemo } = (await import(web)) as { runWebDemo(): Promise<number> }
  process.exit(await runWebDemo())
}

const color = process.stdout.isTTY === true
const heading = (text: string): string => (color ? `\n\u001b[1m${text}\u001b[0m\n` : `\n${text}\n`)
const print = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
}

// XEP-0434 §Trust Message Structure example (v0.6.0 key ids; TM-ATM.md §2.6)
const ALICE = parseBareJid('alice@example.org')
const BOB = parseBareJid('bob@example.com')
const A2 = parseKeyIdBase64('aFABnX7Q/rbTgjBySYzrT2FsYCVYb49mbca5yB734KQ=')
const A3 = parseKeyIdBase64('IhpPjiKLchgrAG5cpSfTvdzPjZ5v6vTOluHEUehkgCA=')
const B1 = parseKeyIdBase64('YjVI04NcbTPvXLaA95RO84HPcSvyOgEZ2r5cTyUs0C8=')
const B_DISTRUSTED_1 = parseKeyIdBase64('tCP1CI3pqSTVGzFYFyPYUMfMZ9Ck/msmfD0wH/VtJBM=')
const B_DISTRUSTED_2 = parseKeyIdBase64('2fhJtrgoMJxfLI3084/YkYh9paqiSiLFDVL2m0qAgX4=')

const example: TrustMessage = {
  usage: NS_ATM_1,
  encryption: NS_OMEMO_2,
  keyOwners: [
    { jid: ALICE, trust: [A2, A3], distrust: [] },
    { jid: BOB, trust: [B1], distrust: [B_DISTRUSTED_1, B_DISTRUSTED_2] },
  ],
}

print(heading('1. The XEP-0434 example trust message (urn:xmpp:tm:1, Base64 key ids)'))
print(serializeTrustMessage(example).toString().replaceAll('><', '>\n<'))

print(heading('2. Bob’s Trust Message URI (Base16 key ids) and its QR code'))
const uri = formatTrustMessageUri({
  jid: BOB,
  encryption: NS_OMEMO_2,
  trust: [B1],
  distrust: [B_DISTRUSTED_1, B_DISTRUSTED_2],
})
print(uri)
print(await trustMessageUriQr(uri, { format: 'text', ansi: color }))

print(heading('3. vouch simulate --accounts alice:3,bob:1 (ATM on the deterministic network simulator)'))
const report = await simulate({ accounts: 'alice:3,bob:1' })
try {
  print(renderSimulation(report, { color }))
} finally {
  await closeSimulation(report.network)
}
