/**
 * `vouch contact add|list|remove|approve|refuse`: contacts (RFC 6121 roster and presence
 * subscriptions) through `@vouch/xmpp`'s `contacts`. Deployed clients (Conversations, Dino,
 * Gajim, Profanity) show their keys to contacts only (PEP access model `presence`): adding
 * somebody as a contact, and their approval, is what lets Vouch read their keys. A composition
 * root: the protocol is the binding's.
 *
 * - `add JID` puts JID on the roster, asks for its presence subscription and pre-approves its own
 *   request (RFC 6121 §3.4); with `--wait S` it waits for the answer and, once approved, fetches
 *   JID's keys and prints them (and any message of JID that was held for them);
 * - `approve [JID]` / `refuse [JID]`: answers a request, asking first (`--yes` for scripts);
 *   without a JID, every request waiting on the server, one question each;
 * - `list`: the roster (`both`, `to`: you see them; `from`: they see you; `asked`: waiting for
 *   their answer) and the requests waiting for yours.
 */
import { createInterface } from 'node:readline'
import type { BareJid } from '@vouch/tm-core'
import { parseBareJid } from '@vouch/tm-core'
import type { Contact, ReceivedChat, VouchXmppEvents } from '@vouch/xmpp'
import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import { UsageError } from '../io.ts'
import type { CliContext } from '../main.ts'
import { type Common, pickAccount, resolvePassword } from '../online/accounts.ts'
import { explain } from '../online/errors.ts'
import { keyHex, type Session, type SessionInit, withSession } from '../online/session.ts'

interface ContactOptions extends Common {
  readonly passwordFile?: string
}

function seconds(v: string): number {
  const n = Number(v)
  if (!/^[0-9]+(\.[0-9]+)?$/.test(v)) throw new InvalidArgumentError('--wait must be a number of seconds')
  return n
}

/** Runs `fn` on the chosen account's session, turning library failures into clear lines. */
async function onAccount<T>(
  ctx: CliContext,
  opts: ContactOptions,
  fn: (s: Session) => Promise<T>,
  init: Omit<SessionInit, 'password'> = {},
): Promise<T> {
  const acct = await pickAccount(opts)
  const password = await resolvePassword(acct.jid, acct, {
    stdin: ctx.stdin,
    ...(opts.passwordFile === undefined ? {} : { passwordFile: opts.passwordFile }),
  })
  try {
    return await withSession(opts, acct, { password, ...init }, fn)
  } catch (e) {
    throw explain(e, acct)
  }
}

/** One question on stderr, one answer line from stdin: `y`/`yes` is yes, anything else no. */
async function ask(ctx: CliContext, lines: AsyncIterator<string>, question: string): Promise<boolean> {
  ctx.output.err(question)
  const r = await lines.next()
  return r.done !== true && /^\s*y(es)?\s*$/i.test(r.value)
}

const stateText = (c: Contact): string =>
  `${c.subscription}${c.pending ? ' (asked)' : ''}${c.name === undefined ? '' : ` "${c.name}"`}`

const waitFor = <T>(ms: number, register: (resolve: (v: T) => void) => () => void): Promise<T | undefined> =>
  new Promise((resolve) => {
    let off: () => void = () => undefined
    const timer = setTimeout(() => {
      off()
      resolve(undefined)
    }, ms)
    timer.unref()
    off = register((v) => {
      clearTimeout(timer)
      off()
      resolve(v)
    })
  })

/** The contact's announced keys (none when it publishes none: `item-not-found`). */
async function keysOf(s: Session, jid: BareJid) {
  try {
    return await s.vouch.refreshKeys(jid)
  } catch (e) {
    if ((e as { condition?: unknown }).condition === 'item-not-found') return []
    throw e
  }
}

export function registerContactCommands(program: Command, ctx: CliContext): void {
  const out = (opts: Common, json: unknown, text: string): void =>
    ctx.output.out(opts.json === true ? JSON.stringify(json) : text)
  const common = (cmd: Command): Command =>
    cmd
      .option('--data <dir>', 'state directory (default $XDG_DATA_HOME/vouch or ~/.local/share/vouch)')
      .option('--account <jid>', 'which local account (when there are several)')
      .option(
        '--password-file <file>',
        'read the XMPP password from this file (default $VOUCH_PASSWORD, else asked)',
      )
      .option('--json', 'print JSON')

  const contact = program
    .command('contact')
    .description('contacts (roster, presence subscriptions): what lets you read contacts-only keys')

  common(
    contact.command('list').description('the roster and the contact requests waiting for your answer'),
  ).action(async (opts: ContactOptions) => {
    const { contacts, requests } = await onAccount(ctx, opts, async (s) => ({
      contacts: await s.vouch.contacts.list(),
      requests: s.vouch.contacts.pendingRequests(),
    }))
    const lines = [
      ...contacts.map((c) => `${c.jid} ${stateText(c)}`),
      ...requests.map((r) => `${r} asks to be your contact: vouch contact approve ${r}`),
    ]
    out(
      opts,
      {
        contacts: contacts.map((c) => ({
          jid: c.jid,
          name: c.name ?? null,
          subscription: c.subscription,
          asked: c.pending,
        })),
        requests,
      },
      lines.join('\n') || '(no contacts)',
    )
  })

  common(
    contact
      .command('add')
      .description(
        'add a contact: ask for its presence (and contacts-only keys), and approve its request in advance',
      )
      .argument('<jid>', "the contact's bare JID")
      .option('--name <name>', 'a name for the roster')
      .option('--wait <seconds>', 'wait this long for the answer, then fetch its keys', seconds, 0),
  ).action(async (jidText: string, opts: ContactOptions & { name?: string; wait: number }) => {
    const jid = parseBareJid(jidText, 'CONTACT')
    const held: ReceivedChat[] = []
    const result = await onAccount(
      ctx,
      opts,
      async (s) => {
        if (jid === s.jid) throw new UsageError(`CONTACT: ${jid} is this account`)
        const answer = waitFor<VouchXmppEvents['subscription-answer']>(opts.wait * 1000, (resolve) =>
          s.vouch.on('subscription-answer', (a) => {
            if (a.from === jid) resolve(a)
          }),
        )
        await s.vouch.contacts.add(jid, opts.name === undefined ? {} : { name: opts.name })
        const before = await s.vouch.contacts.get(jid)
        if (opts.wait <= 0 || before?.subscription === 'to' || before?.subscription === 'both') {
          if (before?.subscription === 'to' || before?.subscription === 'both') {
            return { approved: true as boolean | undefined, keys: await keysOf(s, jid) }
          }
          return { approved: undefined, keys: [] }
        }
        const a = await answer
        if (a?.approved !== true) return { approved: a === undefined ? undefined : false, keys: [] }
        // the binding fetches the keys of a contact that approved: once more here, to print them
        await s.vouch.idle()
        return { approved: true, keys: await keysOf(s, jid) }
      },
      {
        beforeConnect: (s) => {
          s.vouch.on('message', (m) => {
            if (m.peer === jid && m.direction === 'incoming') held.push(m)
          })
          s.vouch.on('key-unusable', (k) =>
            ctx.output.err(`key ${k.key} of ${k.owner} cannot be used: ${k.reason}`),
          )
        },
      },
    )
    const keys = result.keys.map(keyHex)
    const text =
      result.approved === true
        ? [
            `${jid} approved: ${keys.length === 0 ? 'no keys published' : `keys ${keys.join(', ')}`}`,
            ...held.map((m) => `${m.time.toISOString()} ${m.peer} [${m.trustLevel}]: ${m.body}`),
          ].join('\n')
        : result.approved === false
          ? `${jid} refused your contact request`
          : `asked ${jid} to be your contact; once approved, its keys are fetched (vouch trust list ${jid} --refresh)`
    out(
      opts,
      {
        jid,
        approved: result.approved ?? null,
        keys,
        messages: held.map((m) => ({ from: m.from, body: m.body, time: m.time.toISOString() })),
      },
      text,
    )
  })

  common(
    contact
      .command('remove')
      .description('remove a contact (cancels the presence subscriptions both ways)')
      .argument('<jid>', "the contact's bare JID"),
  ).action(async (jidText: string, opts: ContactOptions) => {
    const jid = parseBareJid(jidText, 'CONTACT')
    await onAccount(ctx, opts, (s) => s.vouch.contacts.remove(jid))
    out(opts, { jid, removed: true }, `removed ${jid}`)
  })

  for (const verb of ['approve', 'refuse'] as const) {
    common(
      contact
        .command(verb)
        .description(
          verb === 'approve'
            ? 'let a contact see your presence (and keys you show to contacts only); asks first'
            : "refuse a contact's request (or stop sharing your presence with it); asks first",
        )
        .argument('[jid]', 'whom (default: every request waiting on the server, one question each)')
        .option('--yes', 'answer yes without asking (scripts)'),
    ).action(async (jidText: string | undefined, opts: ContactOptions & { yes?: boolean }) => {
      const named = jidText === undefined ? undefined : parseBareJid(jidText, 'CONTACT')
      const rl = createInterface({ input: ctx.stdin, terminal: false })
      const lines = rl[Symbol.asyncIterator]()
      try {
        const done = await onAccount(ctx, opts, async (s) => {
          const who: BareJid[] = named === undefined ? [...s.vouch.contacts.pendingRequests()] : [named]
          const answered: BareJid[] = []
          for (const jid of who) {
            const question =
              verb === 'approve'
                ? `${jid} asks to be your contact: it will see your presence and the keys you show to contacts only. Approve? [y/N]`
                : `Refuse ${jid}: it will not see your presence. Refuse? [y/N]`
            if (opts.yes !== true && !(await ask(ctx, lines, question))) continue
            if (verb === 'approve') await s.vouch.contacts.approve(jid)
            else await s.vouch.contacts.refuse(jid)
            answered.push(jid)
          }
          return { asked: who, answered }
        })
        const past = verb === 'approve' ? 'approved' : 'refused'
        out(
          opts,
          { [past]: done.answered },
          done.asked.length === 0
            ? 'no contact requests waiting'
            : done.answered.length === 0
              ? `nothing ${past}`
              : done.answered.map((j) => `${past} ${j}`).join('\n'),
        )
      } finally {
        rl.close()
      }
    })
  }
}
