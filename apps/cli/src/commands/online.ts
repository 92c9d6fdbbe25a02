/**
 * `vouch account|chat|trust` and `vouch uri show|use`: the online commands, on a real XMPP
 * connection (`@vouch/xmpp`) with OX (XEP-0373/0374) and state in SQLite under the XDG data
 * directory (`$XDG_DATA_HOME/vouch`, `~/.local/share/vouch`) or `--data DIR`.
 * A composition root: it wires packages together and holds no protocol logic.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { NS_OX, type OxBackend, oxBackend } from '@vouch/backend-ox'
import { sqliteStore } from '@vouch/store-sqlite'
import type { BareJid, KeyId, TrustStore } from '@vouch/tm-core'
import { keyIdToHex, parseBareJid, parseKeyIdHex } from '@vouch/tm-core'
import { formatTrustMessageUri, parseTrustMessageUri, trustMessageUriQr } from '@vouch/uri'
import { oxKeyDirectory } from '@vouch/backend-ox/pep'
import { createClient, startClient, stopClient, type VouchXmpp, vouchXmpp } from '@vouch/xmpp'
import type { Command } from 'commander'
import { UsageError } from '../io.ts'
import type { CliContext } from '../main.ts'

interface AccountRecord {
  readonly jid: BareJid
  readonly password: string
  readonly service: string
  readonly resource: string
}

interface Common {
  readonly data?: string
  readonly account?: string
  readonly json?: boolean
}

/** `$XDG_DATA_HOME/vouch`, else `~/.local/share/vouch`, unless `--data DIR`. */
export function dataDir(opts: { readonly data?: string }): string {
  if (opts.data !== undefined) return opts.data
  const xdg = process.env.XDG_DATA_HOME
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.local', 'share'), 'vouch')
}

async function readAccounts(dir: string): Promise<AccountRecord[]> {
  try {
    return JSON.parse(await readFile(join(dir, 'accounts.json'), 'utf8')) as AccountRecord[]
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return []
    throw e
  }
}

async function saveAccount(dir: string, account: AccountRecord): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const all = (await readAccounts(dir)).filter((a) => a.jid !== account.jid)
  await writeFile(join(dir, 'accounts.json'), `${JSON.stringify([...all, account], null, 2)}\n`, {
    mode: 0o600,
  })
}

async function pickAccount(opts: Common): Promise<AccountRecord> {
  const all = await readAccounts(dataDir(opts))
  if (all.length === 0) throw new UsageError('ACCOUNT: no account yet: vouch account add|register JID first')
  if (opts.account === undefined) {
    if (all.length > 1) throw new UsageError('ACCOUNT: several accounts: choose one with --account JID')
    return all[0] as AccountRecord
  }
  const jid = parseBareJid(opts.account, 'ACCOUNT')
  const found = all.find((a) => a.jid === jid)
  if (found === undefined) throw new UsageError(`ACCOUNT: no account ${jid} in ${dataDir(opts)}`)
  return found
}

interface Session {
  readonly account: AccountRecord
  readonly ox: OxBackend
  readonly vouch: VouchXmpp
  readonly store: TrustStore
}

/** Opens the store, ensures our OX key, connects, catches up; always disconnects and closes. */
async function withSession<T>(
  opts: Common,
  account: AccountRecord,
  fn: (s: Session) => Promise<T>,
  init: {
    readonly register?: boolean
    readonly online?: boolean
    /** runs before connecting (listeners that must see the archive catch-up) */
    readonly beforeConnect?: (s: Session) => void
  } = {},
): Promise<T> {
  const dir = dataDir(opts)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const store = await sqliteStore({ database: join(dir, 'vouch.sqlite') })
  try {
    const accountStore = store.forAccount(account.jid)
    const ox = oxBackend()({ store: accountStore })
    if ((await ox.ownKeyInfo()) === undefined) await ox.generateOwnKey()
    const xmpp = createClient({
      service: account.service,
      jid: account.jid,
      password: account.password,
      resource: account.resource,
      ...(init.register === true ? { register: true } : {}),
    })
    const vouch = vouchXmpp(xmpp, {
      store: accountStore,
      backends: [ox],
      keyDirectories: [oxKeyDirectory(ox)],
    })
    const session: Session = { account, ox, vouch, store }
    try {
      init.beforeConnect?.(session)
      if (init.online !== false) {
        const synced = vouch.synced()
        await startClient(xmpp)
        await synced
      }
      const result = await fn(session)
      await vouch.idle()
      await vouch.flushOutbox()
      return result
    } finally {
      vouch.close()
      // no reconnect, no pending IQ timer: nothing of the connection outlives the command
      await stopClient(xmpp)
    }
  } finally {
    await store.close()
  }
}

function keyHex(id: KeyId): string {
  return keyIdToHex(id).toUpperCase()
}

async function askYesNo(ctx: CliContext, question: string): Promise<boolean> {
  ctx.output.err(question)
  const rl = createInterface({ input: ctx.stdin })
  try {
    for await (const line of rl) return /^\s*y(es)?\s*$/i.test(line)
    return false
  } finally {
    rl.close()
  }
}

export function registerOnlineCommands(program: Command, ctx: CliContext): void {
  const out = (opts: Common, json: unknown, text: string): void =>
    ctx.output.out(opts.json === true ? JSON.stringify(json) : text)
  const common = (cmd: Command): Command =>
    cmd
      .option('--data <dir>', 'state directory (default $XDG_DATA_HOME/vouch or ~/.local/share/vouch)')
      .option('--account <jid>', 'which local account (when there are several)')
      .option('--json', 'print JSON')

  // ---- account
  const account = program.command('account').description('XMPP accounts of this machine (OX key per account)')
  for (const mode of ['add', 'register'] as const) {
    common(
      account
        .command(mode)
        .description(
          mode === 'add'
            ? 'add an existing account: log in, create the OX key and publish it (PEP)'
            : 'create the account on the server (XEP-0077 in-band registration), then as add',
        )
        .argument('<jid>', 'the bare JID')
        .requiredOption('--service <url>', 'server address, e.g. xmpp://127.0.0.1:5222')
        .option('--password <password>', 'password (default $VOUCH_PASSWORD)')
        .option('--resource <resource>', 'resource of this machine', 'vouch'),
    ).action(
      async (jidText: string, opts: Common & { service: string; password?: string; resource: string }) => {
        const jid = parseBareJid(jidText, 'ACCOUNT')
        const password = opts.password ?? process.env.VOUCH_PASSWORD
        if (password === undefined || password === '')
          throw new UsageError('ACCOUNT: a password is needed (--password or VOUCH_PASSWORD)')
        if (!/^(xmpp|ws|wss):\/\//.test(opts.service))
          throw new UsageError(
            `ACCOUNT: --service must be xmpp://HOST:PORT or ws(s)://…, got ${opts.service}`,
          )
        const record: AccountRecord = { jid, password, service: opts.service, resource: opts.resource }
        const fpr = await withSession(opts, record, async (s) => (await s.ox.ownKeyInfo())?.fingerprint, {
          register: mode === 'register',
        })
        await saveAccount(dataDir(opts), record)
        out(opts, { jid, fingerprint: fpr, registered: mode === 'register' }, `${jid} ready (OX key ${fpr})`)
      },
    )
  }

  // ---- chat
  const chat = program.command('chat').description('encrypted chat (XEP-0374, OX)')
  common(chat.command('send').description('send an encrypted message'))
    .argument('<jid>', 'recipient bare JID')
    .argument('<text>', 'the message')
    .action(async (to: string, text: string, opts: Common) => {
      const peer = parseBareJid(to, 'CHAT')
      const acct = await pickAccount(opts)
      const sent = await withSession(opts, acct, (s) => s.vouch.sendChat(peer, text))
      out(
        opts,
        { id: sent.id, to: peer, recipients: sent.recipients.map((r) => keyHex(r.keyId)) },
        `sent ${sent.id}`,
      )
    })
  common(chat.command('listen').description('print received messages (archive first, then live)'))
    .option('--count <n>', 'stop after N messages', (v) => Number.parseInt(v, 10))
    .option(
      '--timeout <seconds>',
      'stop after this many seconds (default 30)',
      (v) => Number.parseFloat(v),
      30,
    )
    .action(async (opts: Common & { count?: number; timeout: number }) => {
      const acct = await pickAccount(opts)
      let n = 0
      let done: () => void = () => undefined
      const finished = new Promise<void>((resolve) => {
        done = resolve
      })
      await withSession(opts, acct, () => Promise.race([finished, sleep(opts.timeout * 1000)]), {
        beforeConnect: (s) =>
          s.vouch.on('message', (m) => {
            if (m.direction !== 'incoming' || (opts.count !== undefined && n >= opts.count)) return
            n++
            out(
              opts,
              {
                from: m.from,
                body: m.body,
                senderKey: m.senderKey === undefined ? null : keyHex(m.senderKey),
                trust: m.trustLevel,
                time: m.time.toISOString(),
              },
              `${m.time.toISOString()} ${m.peer} [${m.trustLevel}]: ${m.body}`,
            )
            if (opts.count !== undefined && n >= opts.count) done()
          }),
      })
    })

  // ---- trust
  const trust = program.command('trust').description('trust levels of OX keys (XEP-0450)')
  common(trust.command('list').description("list keys and trust levels (fetches the JID's keys first)"))
    .argument('[jid]', 'only this key owner')
    .action(async (jidText: string | undefined, opts: Common) => {
      const acct = await pickAccount(opts)
      const owner = jidText === undefined ? undefined : parseBareJid(jidText, 'TRUST')
      const keys = await withSession(opts, acct, async (s) => {
        if (owner !== undefined) await s.vouch.refreshKeys(owner)
        const store = s.store.forAccount(acct.jid)
        return store.getKeys(NS_OX, owner === undefined ? {} : { owners: [owner] })
      })
      const rows = keys.map((k) => ({ owner: k.owner, key: keyHex(k.keyId), level: k.level }))
      out(opts, rows, rows.map((r) => `${r.owner} ${r.key} ${r.level}`).join('\n') || '(no keys)')
    })
  for (const verb of ['authenticate', 'distrust'] as const) {
    common(
      trust.command(verb).description(`${verb} keys of a contact (hex fingerprints); sends trust messages`),
    )
      .argument('<jid>', 'key owner')
      .argument('<keys...>', 'v4 fingerprints (hex)')
      .action(async (jidText: string, hex: string[], opts: Common) => {
        const owner = parseBareJid(jidText, 'TRUST')
        const ids = hex.map((h) => parseKeyIdHex(h.replace(/\s/g, ''), 'URI-8'))
        const acct = await pickAccount(opts)
        const res = await withSession(opts, acct, async (s) => {
          await s.vouch.refreshKeys(owner)
          return verb === 'authenticate'
            ? s.vouch.authenticate(NS_OX, owner, ids)
            : s.vouch.distrust(NS_OX, owner, ids)
        })
        const changes = res.changes.map((c) => ({ owner: c.owner, key: keyHex(c.keyId), level: c.level }))
        out(
          opts,
          { changes, sent: res.outgoing.length },
          changes.map((c) => `${c.owner} ${c.key} ${c.level}`).join('\n') || 'no change',
        )
      })
  }

  // ---- uri show | use (subcommands of the existing `uri` command)
  const uri = program.commands.find((c) => c.name() === 'uri') ?? program.command('uri')
  common(uri.command('show').description("this account's Trust Message URI (own OX key) and its QR code"))
    .option('--no-qr', 'no QR code')
    .action(async (opts: Common & { qr: boolean }) => {
      const acct = await pickAccount(opts)
      const text = await withSession(
        opts,
        acct,
        async (s) => {
          const own = await s.ox.ownKeys()
          return formatTrustMessageUri({ jid: acct.jid, encryption: NS_OX, trust: own, distrust: [] })
        },
        { online: false },
      )
      if (opts.json === true) return ctx.output.out(JSON.stringify({ uri: text }))
      ctx.output.out(text)
      if (opts.qr) ctx.output.out(String(await trustMessageUriQr(text, { format: 'text' })))
    })
  common(uri.command('use').description('apply a Trust Message URI (asks for confirmation, URI-4)'))
    .argument('<uri>', 'the URI (scanned or pasted)')
    .option('--yes', 'confirm without asking (scripts)')
    .option('--source <source>', 'where the URI came from: scan, paste or link', 'paste')
    .action(async (text: string, opts: Common & { yes?: boolean; source: string }) => {
      if (!['scan', 'paste', 'link'].includes(opts.source))
        throw new UsageError(`URI-3: --source must be scan, paste or link, got ${opts.source}`)
      const parsed = parseTrustMessageUri(text, { strict: true })
      const acct = await pickAccount(opts)
      const res = await withSession(opts, acct, (s) =>
        s.vouch.applyUri(parsed, {
          uriSource: opts.source as 'scan' | 'paste' | 'link',
          confirm: async (summary) => {
            if (opts.yes === true) return true
            const lines = [
              ...summary.authenticate.map((k) => `  authenticate ${keyHex(k)}`),
              ...summary.distrust.map((k) => `  distrust ${keyHex(k)}`),
            ]
            return askYesNo(ctx, `Apply to ${summary.jid}:\n${lines.join('\n')}\nConfirm? [y/N]`)
          },
        }),
      )
      const changes = res.changes.map((c) => ({ owner: c.owner, key: keyHex(c.keyId), level: c.level }))
      out(
        opts,
        { changes, sent: res.outgoing.length },
        changes.map((c) => `${c.owner} ${c.key} ${c.level}`).join('\n') || 'no change',
      )
    })
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref())
}
