/**
 * `vouch account|device|chat|trust` and `vouch uri show|use`: the online commands, on a real
 * XMPP connection (`@vouch/xmpp`) with OMEMO 2 (default) or OX per account, state in SQLite
 * under the XDG data directory (`$XDG_DATA_HOME/vouch`, `~/.local/share/vouch`) or `--data DIR`.
 * Only the registration lives here: each action loads `../online/actions.ts` (and through it the
 * protocol libraries) when it runs, so `vouch --help` loads none of them.
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { UsageError } from '../io.ts'
import type { CliContext } from '../main.ts'
import { parseEncryption } from '../online/accounts.ts'
import type { ActionContext } from '../online/actions.ts'

type Actions = typeof import('../online/actions.ts')
const actions = (): Promise<Actions> => import('../online/actions.ts')

function positiveInteger(flag: string) {
  return (v: string): number => {
    if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError(`${flag} must be a positive integer`)
    return Number.parseInt(v, 10)
  }
}

function positiveSeconds(v: string): number {
  const n = Number(v)
  if (!/^[0-9]+(\.[0-9]+)?$/.test(v) || !(n > 0))
    throw new InvalidArgumentError('--timeout must be a positive number of seconds')
  return n
}

export function registerOnlineCommands(program: Command, ctx: CliContext): void {
  const actx: ActionContext = ctx
  const common = (cmd: Command): Command =>
    cmd
      .option('--data <dir>', 'state directory (default $XDG_DATA_HOME/vouch or ~/.local/share/vouch)')
      .option('--account <jid>', 'which local account (when there are several)')
      .option(
        '--password-file <file>',
        'read the XMPP password from this file (default $VOUCH_PASSWORD, else asked)',
      )
      .option('--json', 'print JSON')
  const encryption = (): Option =>
    new Option(
      '--encryption <encryption>',
      'omemo2 (one key per device), ox (one key per account), omemo03 (OMEMO 0.3) or omemo2,omemo03 (both OMEMO versions on this device: one device id, one key pair); OMEMO 0.3 needs the optional GPL-3.0 package @vouch/backend-omemo-legacy',
    )
      .argParser((v: string) => {
        const e = parseEncryption(v)
        if (e === undefined)
          throw new InvalidArgumentError(
            `--encryption must be omemo2, ox, omemo03 or omemo2,omemo03 (both OMEMO versions), got "${v}"`,
          )
        return e
      })
      .default('omemo2')
  const addOptions = (cmd: Command, resource: string | null = 'vouch'): Command =>
    common(cmd)
      .addOption(encryption())
      .addOption(
        new Option(
          '--key-access <model>',
          'who may read the keys this device publishes: open (anybody, XEP-0373) or presence (contacts only; OX)',
        )
          .choices(['open', 'presence'])
          .default('open'),
      )
      .option(
        '--resource <resource>',
        resource === null
          ? 'resource of this device (default: vouch- and 4 random hex digits, so it never takes the resource of another device of the account)'
          : 'resource of this device',
        resource ?? undefined,
      )
      .option(
        '--save-password',
        'store the password in accounts.json (clear text, mode 0600); default: never stored',
      )

  // ---- account
  const account = program
    .command('account')
    .description(
      'XMPP accounts of this device (OMEMO 2 by default; OX, OMEMO 0.3 or both OMEMO versions, per account)',
    )
  for (const mode of ['add', 'register'] as const) {
    addOptions(
      account
        .command(mode)
        .description(
          mode === 'add'
            ? "add an existing account: log in, create this device's key and publish it (PEP)"
            : 'create the account on the server (XEP-0077 in-band registration), then as add',
        )
        .argument('<jid>', 'the bare JID')
        .requiredOption('--service <url>', 'server address, e.g. xmpp://127.0.0.1:5222'),
    ).action(async (jid: string, opts) => (await actions()).accountAdd(actx, mode, jid, opts))
  }

  // ---- device
  const device = program.command('device').description("this account's devices: add, list, revoke")
  addOptions(
    device
      .command('add')
      .description(
        'with a JID, on the new device: OMEMO 2 — a new device key, shown as a URI/QR to scan on an old device; OX — copies the account key (--code). Without a JID, on an existing device: what the new device needs (OX: publishes an encrypted key backup and prints its code)',
      )
      .argument('[jid]', "the account's bare JID (on the new device)")
      .option('--service <url>', 'server address, e.g. xmpp://127.0.0.1:5222 (with a JID)')
      .option('--uri <uri>', "an existing device's code (its vouch uri show): this device authenticates it")
      .option('--code <code>', 'OX: the backup code the existing device printed')
      .option('--yes', 'apply --uri without asking (scripts)')
      .option('--no-qr', 'no QR code'),
    null,
  ).action(async (jid: string | undefined, opts) => {
    const a = await actions()
    if (jid === undefined) return a.deviceAddHere(actx, opts)
    if (opts.service === undefined)
      throw new UsageError("DEVICE: --service is needed with a JID (the account's server address)")
    const resource = opts.resource ?? `vouch-${globalThis.crypto.randomUUID().slice(0, 4)}`
    return a.deviceAdd(actx, jid, { ...opts, resource })
  })
  common(
    device
      .command('enable')
      .description(
        'run OMEMO 0.3 on this OMEMO 2 device too (same device id, same key pair: one identity, D-12); publishes its OMEMO 0.3 device list and bundle. Needs the optional GPL-3.0 package @vouch/backend-omemo-legacy',
      )
      .argument('<encryption>', 'omemo03'),
  ).action(async (what: string, opts) => {
    if (what !== 'omemo03')
      throw new UsageError(`DEVICE: device enable takes omemo03 (OMEMO 0.3 beside OMEMO 2), got "${what}"`)
    return (await actions()).deviceEnableOmemo03(actx, opts)
  })
  common(
    device
      .command('list')
      .description('own devices: key, trust level as seen from here, last message received (offline)'),
  ).action(async (opts) => (await actions()).deviceList(actx, opts))
  common(
    device
      .command('revoke')
      .description(
        'OMEMO 2: distrust a lost device from here (ATM-S5 tells your devices and contacts) and remove it from the device list; OX: a new key replaces the account key',
      )
      .argument('<device>', 'device id or key (hex) from vouch device list'),
  ).action(async (which: string, opts) => (await actions()).deviceRevoke(actx, which, opts))

  // ---- chat
  const chat = common(
    program
      .command('chat')
      .description('encrypted chat; vouch chat JID opens a line-based session (type to send)')
      .argument('[jid]', 'the contact (bare JID)'),
  )
    // `chat listen --data X`: options after a subcommand are the subcommand's
    .enablePositionalOptions()
    .action(async (jid: string | undefined, opts) => {
      if (jid === undefined)
        throw new UsageError('CHAT: name a contact: vouch chat JID (or chat send / chat listen)')
      return (await actions()).chatInteractive(actx, jid, opts)
    })
  common(chat.command('send').description('send one encrypted message'))
    .argument('<jid>', 'recipient bare JID')
    .argument('<text>', 'the message')
    .action(async (to: string, text: string, opts) => (await actions()).chatSend(actx, to, text, opts))
  common(
    chat
      .command('reset')
      .description(
        'OMEMO: replace the sessions with every device of a contact (XEP-0384), when messages stopped decrypting',
      ),
  )
    .argument('<jid>', 'the contact (bare JID), or your own to reset your other devices')
    .action(async (peer: string, opts) => (await actions()).chatResetSessions(actx, peer, opts))
  common(
    chat
      .command('listen')
      .description('print received messages (archive first, then live); says how many at the end'),
  )
    .option('--count <n>', 'stop after N messages', positiveInteger('--count'))
    .option('--timeout <seconds>', 'stop after this many seconds (default 30)', positiveSeconds, 30)
    .option('--approve-contacts', 'approve every contact request that arrives, without asking')
    .action(async (opts) => (await actions()).chatListen(actx, opts))

  // ---- trust
  const trust = program.command('trust').description('trust levels of keys (XEP-0434, XEP-0450)')
  common(
    trust
      .command('list')
      .description('keys and trust levels from local state (offline; --refresh fetches first)'),
  )
    .argument('[jid]', 'only this key owner')
    .option('--refresh', "fetch the JID's published keys first (online)")
    .action(async (jid: string | undefined, opts) => (await actions()).trustList(actx, jid, opts))
  for (const verb of ['authenticate', 'distrust'] as const) {
    common(trust.command(verb).description(`${verb} keys of a contact (hex key ids); sends trust messages`))
      .argument('<jid>', 'key owner')
      .argument('<keys...>', 'key ids (hex)')
      .action(async (jid: string, keys: string[], opts) =>
        (await actions()).trustDecide(actx, verb, jid, keys, opts),
      )
  }

  // ---- uri show | use (subcommands of the existing `uri` command)
  const uri = program.commands.find((c) => c.name() === 'uri') ?? program.command('uri')
  common(
    uri
      .command('show')
      .description(
        "this account's Trust Message URI and QR code: this device's key plus the own keys it authenticated or distrusted (one code for all your devices)",
      ),
  )
    .option('--no-qr', 'no QR code')
    .action(async (opts) => (await actions()).uriShow(actx, opts))
  common(uri.command('use').description('apply a Trust Message URI (asks for confirmation, URI-4)'))
    .argument('<uri>', 'the URI (scanned or pasted)')
    .option('--yes', 'confirm without asking (scripts)')
    .option('--allow-unpublished', 'with --yes: apply even keys the JID does not publish')
    .option('--source <source>', 'where the URI came from: scan, paste or link', 'paste')
    .action(async (text: string, opts) => (await actions()).uriUse(actx, text, opts))
}
