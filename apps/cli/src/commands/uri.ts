/** `vouch uri parse|build|qr`: Trust Message URIs (XEP-0434, XEP-0147 query `trust-message`). */
import { writeFile } from 'node:fs/promises'
import {
  formatTrustMessageUri,
  parseScannedUri,
  parseTrustMessageUri,
  trustMessageUriQr,
  uriFromJson,
  uriToJson,
} from '@vouch/uri'
import { Option, type Command } from 'commander'
import { parseJsonInput, readInput, UsageError } from '../io.ts'
import type { CliContext } from '../main.ts'

export function registerUriCommands(program: Command, ctx: CliContext): void {
  const uri = program
    .command('uri')
    .description('Trust Message URIs: xmpp:<jid>?trust-message;encryption=…;trust=…;distrust=…')

  uri
    .command('parse')
    .description(
      'parse a Trust Message URI (URI-1 … URI-9) or a Conversations fingerprint URI (?omemo-sid-…, CFP-1 … CFP-4) strictly; print JSON with Base16 key ids',
    )
    .argument('<uri>', 'the URI')
    .option('--legacy', 'lenient mode: encryption anywhere, unknown pairs and fragments ignored')
    .action((text: string, opts: { legacy?: boolean }) => {
      if (opts.legacy === true) {
        ctx.output.out(JSON.stringify(uriToJson(parseTrustMessageUri(text, { strict: false }))))
        return
      }
      const scanned = parseScannedUri(text)
      if (scanned.kind === 'trust-message') {
        ctx.output.out(JSON.stringify(uriToJson(scanned.uri)))
        return
      }
      // a fingerprint code: the devices it names, and the Trust Message URI it amounts to
      const json = uriToJson(scanned.uri)
      const keys = new Map(scanned.uri.trust.map((k, i) => [k, json.trust[i]]))
      ctx.output.out(
        JSON.stringify({
          kind: 'fingerprint',
          ...json,
          devices: scanned.fingerprint.devices.map((d) => ({ deviceId: d.deviceId, key: keys.get(d.keyId) })),
        }),
      )
    })

  uri
    .command('build')
    .description('read {"jid","encryption","trust":[hex],"distrust":[hex]} JSON; print the URI')
    .argument('[file]', 'JSON file, or - for standard input', '-')
    .action(async (file: string) => {
      ctx.output.out(formatTrustMessageUri(uriFromJson(parseJsonInput(await readInput(file, ctx.stdin)))))
    })

  uri
    .command('qr')
    .description('render a Trust Message URI as a QR code (URI-2)')
    .argument('<uri>', 'the URI (validated first)')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'svg', 'png']).default('text'),
    )
    .option('--out <file>', 'write to a file instead of standard output (required for png)')
    .action(async (text: string, opts: { format: 'text' | 'svg' | 'png'; out?: string }) => {
      if (opts.format === 'png') {
        if (opts.out === undefined) throw new UsageError('--format png needs --out FILE')
        await writeFile(opts.out, await trustMessageUriQr(text, { format: 'png' }))
        return
      }
      const qr = await trustMessageUriQr(text, {
        format: opts.format,
        ansi: opts.out === undefined && process.stdout.isTTY === true,
      })
      if (opts.out !== undefined) await writeFile(opts.out, qr)
      else ctx.output.out(qr)
    })
}
