/** `vouch sce open`: open an XEP-0420 envelope with the receiver checks SCE-1 … SCE-4. */
import { envelopeToJson, openEnvelope } from '@vouch/sce'
import type { Command } from 'commander'
import { parseStampOption, readInput, UsageError } from '../io.ts'
import type { CliContext } from '../main.ts'

export function registerSceCommands(program: Command, ctx: CliContext): void {
  const sce = program
    .command('sce')
    .description('XEP-0420 Stanza Content Encryption envelopes (urn:xmpp:sce:1)')

  sce
    .command('open')
    .description(
      'check an <envelope/> against the stanza that carried it; print its affixes and content as JSON',
    )
    .argument('[file]', 'XML file, or - for standard input', '-')
    .requiredOption('--stanza-from <jid>', 'from of the stanza that carried the envelope')
    .requiredOption('--stanza-to <jid>', 'to of the stanza that carried the envelope')
    .option('--margin <seconds>', 'SCE-1: accepted distance between <time/> and the sending time', '300')
    .option('--now <stamp>', 'the receiver clock / stanza sending time (XEP-0082), default: now')
    .option('--legacy', 'also accept urn:xmpp:sce:0 envelopes (<payload/>)')
    .action(
      async (
        file: string,
        opts: { stanzaFrom: string; stanzaTo: string; margin: string; now?: string; legacy?: boolean },
      ) => {
        const margin = Number(opts.margin)
        if (!Number.isFinite(margin) || margin < 0)
          throw new UsageError(`--margin must be a number of seconds, not "${opts.margin}"`)
        const now = parseStampOption(opts.now, '--now') ?? new Date()
        const opened = openEnvelope(await readInput(file, ctx.stdin), {
          stanzaFrom: opts.stanzaFrom,
          stanzaTo: opts.stanzaTo,
          now,
          marginSeconds: margin,
          legacy: opts.legacy === true,
        })
        ctx.output.out(JSON.stringify(envelopeToJson(opened)))
      },
    )
}
