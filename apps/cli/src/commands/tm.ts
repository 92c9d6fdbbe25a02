/** `vouch tm parse|build`: XEP-0434 trust messages between XML and JSON. */
import {
  parseTrustMessageXml,
  serializeTrustMessage,
  trustMessageFromJson,
  trustMessageToJson,
} from '@vouch/tm-core'
import type { Command } from 'commander'
import { parseJsonInput, readInput } from '../io.ts'
import type { CliContext } from '../main.ts'

export function registerTmCommands(program: Command, ctx: CliContext): void {
  const tm = program.command('tm').description('XEP-0434 trust messages (urn:xmpp:tm:1)')

  tm.command('parse')
    .description(
      'read a <trust-message/>, a <message/> holding one, or an SCE <envelope/> holding one; print it as JSON (key ids in canonical Base64)',
    )
    .argument('[file]', 'XML file, or - for standard input', '-')
    .option(
      '--legacy',
      'also accept the older drafts (urn:xmpp:tm:0, urn:xmpp:trust-messages:0 with hex ids; SCE urn:xmpp:sce:0)',
    )
    .action(async (file: string, opts: { legacy?: boolean }) => {
      const text = await readInput(file, ctx.stdin)
      const parsed = parseTrustMessageXml(text, { legacy: opts.legacy === true })
      ctx.output.out(JSON.stringify(trustMessageToJson(parsed)))
    })

  tm.command('build')
    .description(
      'read the JSON form of a trust message; print it as <trust-message xmlns="urn:xmpp:tm:1"/> XML',
    )
    .argument('[file]', 'JSON file, or - for standard input', '-')
    .action(async (file: string) => {
      const parsed = trustMessageFromJson(parseJsonInput(await readInput(file, ctx.stdin)))
      ctx.output.out(serializeTrustMessage(parsed.message).toString())
    })
}
