/**
 * `vouch ox keygen|export|import|encrypt|decrypt|backup|restore`: OpenPGP for XMPP (XEP-0373 /
 * XEP-0374) from a terminal, on a data directory holding a SQLite trust store
 * (`<DIR>/vouch.sqlite`: keys in the backend state, trust levels, own key).
 *
 * Conventions (see ../io.ts): results on stdout (`--json` on every command), bad input or a
 * failed receiver check exits 2 with one line on stderr starting with the rule id (`OX-TO: …`).
 */
import { mkdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createAtm } from '@vouch/atm'
import type { OxBackend } from '@vouch/backend-ox'
import {
  decodeBase64,
  findOpenpgpElement,
  isBackupCode,
  isMessage,
  keyIdToFingerprint,
  oxBackend,
  oxMessage,
} from '@vouch/backend-ox'
import { sqliteStore } from '@vouch/store-sqlite'
import type { AccountTrustStore, BareJid, Element, FullJid, ProtectionMode, TrustLevel } from '@vouch/tm-core'
import {
  DecryptionError,
  Element as XmlElement,
  parseBareJid,
  parseXml,
  toBareJid,
  TRUST_LEVELS,
} from '@vouch/tm-core'
import type { Command } from 'commander'
import type { Output } from '../io.ts'
import { cleanOnFailure } from '../online/accounts.ts'
import { parseStampOption, processOutput, readInput, UsageError } from '../io.ts'

/** Where the commands read and write (tests pass their own). */
export interface OxCommandIo {
  readonly output: Output
  readonly stdin: NodeJS.ReadableStream
}

interface Common {
  readonly data: string
  readonly jid: string
  readonly json?: boolean
}

const MODES: readonly ProtectionMode[] = ['signcrypt', 'sign', 'crypt']

/** Opens the account's backend on `<data>/vouch.sqlite`, runs `fn`, closes the store. */
async function withBackend<T>(
  opts: Common,
  fn: (ox: OxBackend, account: BareJid, store: AccountTrustStore) => Promise<T>,
): Promise<T> {
  const account = parseBareJid(opts.jid, 'JID')
  // a command that fails leaves no new data directory behind
  return cleanOnFailure(opts.data, async () => {
    mkdirSync(opts.data, { recursive: true })
    const store = await sqliteStore({ database: join(opts.data, 'vouch.sqlite') })
    try {
      const accountStore = store.forAccount(account)
      return await fn(oxBackend()({ store: accountStore }), account, accountStore)
    } finally {
      await store.close()
    }
  })
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--data <dir>', 'data directory (SQLite store vouch.sqlite inside; created if missing)')
    .requiredOption('--jid <jid>', 'the local account (bare JID)')
    .option('--json', 'print JSON')
}

/** The payload: XML (one or more elements) or plain text (a `<body xmlns='jabber:client'/>`). */
function readPayload(text: string): Element[] {
  const trimmed = text.trim()
  if (!trimmed.startsWith('<'))
    return [new XmlElement('body', { xmlns: 'jabber:client' }).t(text.replace(/\n$/, ''))]
  const wrapper = parseXml(`<payload>${trimmed}</payload>`)
  return wrapper.children.filter((c): c is Element => typeof c !== 'string')
}

/** Registers `vouch ox …` on `program`. */
export function registerOxCommands(
  program: Command,
  io: OxCommandIo = { output: processOutput, stdin: process.stdin },
): void {
  const ox = program
    .command('ox')
    .description('OpenPGP for XMPP (XEP-0373 v0.7.0, XEP-0374 v0.2.0) on a data directory')
  const out = (json: boolean | undefined, value: unknown, text: string): void =>
    io.output.out(json === true ? JSON.stringify(value) : text)

  common(ox.command('keygen'))
    .description('generate our key (Ed25519 + Curve25519, v4, user id xmpp:<jid>, no expiry, no passphrase)')
    .option('--replace', 'replace an existing own key')
    .action(async (opts: Common & { replace?: boolean }) => {
      await withBackend(opts, async (backend, account) => {
        const info = await backend.generateOwnKey({ replace: opts.replace === true }).catch((e: unknown) => {
          if (opts.replace !== true && e instanceof Error && (e as { rule?: string }).rule === 'OX-OWN-KEY')
            throw new UsageError(
              `OX-OWN-KEY: ${account} already has an OX key: vouch ox keygen --replace to replace it`,
            )
          throw e
        })
        out(opts.json, { jid: account, fingerprint: info.fingerprint, keyId: info.keyId }, info.fingerprint)
      })
    })

  common(ox.command('export'))
    .description('print our public key, minimal (only the xmpp: user id): armored, or the XEP-0373 <pubkey/>')
    .option('--pubkey', 'print the <pubkey xmlns="urn:xmpp:openpgp:0"><data/></pubkey> PEP payload')
    .action(async (opts: Common & { pubkey?: boolean }) => {
      await withBackend(opts, async (backend, account) => {
        const info = await backend.ownKeyInfo()
        const armored = await backend.exportArmoredPublicKey()
        const pubkey = (await backend.publicKeyElement()).toString()
        out(
          opts.json,
          { jid: account, fingerprint: info?.fingerprint, keyId: info?.keyId, armored, pubkey },
          opts.pubkey === true ? pubkey : armored,
        )
      })
    })

  common(ox.command('import'))
    .description(
      "import a contact's public key (armored, binary as Base64, or <pubkey/>) and register it under the policy",
    )
    .argument('[file]', 'key file, or - for standard input', '-')
    .requiredOption('--owner <jid>', "the key owner's bare JID (the key must carry xmpp:<owner>)")
    .action(async (file: string, opts: Common & { owner: string }) => {
      const text = await readInput(file, io.stdin)
      const owner = parseBareJid(opts.owner, 'JID')
      await withBackend(opts, async (backend, account, store) => {
        const input = text.trim().startsWith('<') ? parseXml(text.trim()) : text
        // the backend stores the key material; ATM gives new usable keys their level (TOAKAFA by
        // default, or the store's security policy)
        const results = await backend.importPublicKey(owner, input)
        const usable = results.filter((r) => r.status.usable).map((r) => r.info.keyId)
        if (usable.length > 0)
          await createAtm({ account, store, backends: [backend], now: () => Date.now() }).keysDiscovered(
            backend.namespace,
            owner,
            usable,
          )
        const levels = await Promise.all(
          results.map((r) => store.getTrustLevel(backend.namespace, owner, r.info.keyId)),
        )
        const json = results.map((r, i) => ({
          owner: r.owner,
          fingerprint: r.info.fingerprint,
          keyId: r.info.keyId,
          change: r.change,
          usable: r.status.usable,
          ...(r.status.usable ? {} : { reason: r.status.reason }),
          level: levels[i] as TrustLevel,
        }))
        out(opts.json, json, json.map((r) => `${r.fingerprint} ${r.change} ${r.level}`).join('\n'))
      })
    })

  common(ox.command('encrypt'))
    .description('protect a payload (XML elements, or text as a <body/>) and print the <openpgp/> element')
    .argument('[file]', 'payload file, or - for standard input', '-')
    // one JID per --to (repeat it, or separate with commas): a variadic option would swallow FILE
    .requiredOption(
      '--to <jid>',
      'recipient bare JID (repeat --to, or a,b)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--mode <mode>', 'signcrypt | sign | crypt (chat uses signcrypt only)', 'signcrypt')
    .option('--accept <levels>', `comma-separated trust levels to encrypt to (${TRUST_LEVELS.join(', ')})`)
    .option('--message', 'print a whole XEP-0374 <message/> (fallback body, store hint, EME)')
    .option('--no-fallback-body', 'with --message: no plaintext fallback body')
    .option('--now <stamp>', 'sending time written into <time/> (default: now)')
    .action(
      async (
        file: string,
        opts: Common & {
          to: string[]
          mode: string
          accept?: string
          message?: boolean
          fallbackBody: boolean
          now?: string
        },
      ) => {
        if (!MODES.includes(opts.mode as ProtectionMode))
          throw new UsageError(`--mode must be one of ${MODES.join(', ')}, not "${opts.mode}"`)
        const to = opts.to.flatMap((t) => t.split(',')).map((t) => toBareJid(t.trim(), 'JID'))
        const accepted = opts.accept?.split(',').map((l) => l.trim())
        for (const l of accepted ?? [])
          if (!TRUST_LEVELS.includes(l as TrustLevel))
            throw new UsageError(`--accept: unknown trust level "${l}"`)
        const payload = readPayload(await readInput(file, io.stdin))
        const now = parseStampOption(opts.now, '--now')
        await withBackend(opts, async (backend) => {
          const result = await backend
            .encrypt(payload, to, {
              mode: opts.mode as ProtectionMode,
              ...(accepted === undefined ? {} : { acceptedLevels: accepted as TrustLevel[] }),
              ...(now === undefined ? {} : { now }),
            })
            .catch((e: unknown) => {
              if (!(e instanceof Error) || e.name !== 'UntrustedKeyError') throw e
              const who = (e as Error & { owner?: string }).owner ?? to.join(', ')
              throw new UsageError(
                `TM-15: no key of ${who} at an accepted level (${(accepted ?? ['automatically-trusted', 'manually-trusted', 'authenticated']).join(', ')}): import it with vouch ox import --owner ${who}, or widen --accept`,
              )
            })
          const element =
            opts.message === true && to[0] !== undefined
              ? oxMessage({
                  to: to[0],
                  openpgp: result.element,
                  ...(opts.fallbackBody ? {} : { fallbackBody: false as const }),
                })
              : result.element
          out(
            opts.json,
            {
              xml: element.toString(),
              recipients: result.recipients.map((r) => ({
                owner: r.owner,
                keyId: r.keyId,
                fingerprint: keyIdToFingerprint(r.keyId),
              })),
            },
            element.toString(),
          )
        })
      },
    )

  common(ox.command('decrypt'))
    .description(
      'open an <openpgp/> element (or a <message/> holding one) with every receiver check; print {signer, affixes, payload}',
    )
    .argument('[file]', 'XML file, or - for standard input', '-')
    .option('--from <jid>', "the stanza's from (default: the <message/>'s from)")
    .option('--to <jid>', "the stanza's to (default: the <message/>'s to, else --jid)")
    .option('--expected-to <jid>', 'for our own sent copies: the conversation partner <to/> must name')
    .option('--allow-signed-only', 'accept <sign/> (unencrypted trust messages, TM-14)')
    .option('--allow-unsigned', 'accept <crypt/> (never for chat)')
    .option('--now <stamp>', 'receiver clock / archive stamp the <time/> is checked against (default: now)')
    .option('--max-age <seconds>', 'how old <time/> may be (default 604800, a week)')
    .action(
      async (
        file: string,
        opts: Common & {
          from?: string
          to?: string
          expectedTo?: string
          allowSignedOnly?: boolean
          allowUnsigned?: boolean
          now?: string
          maxAge?: string
        },
      ) => {
        const root = parseXml((await readInput(file, io.stdin)).trim())
        const el = isMessage(root) ? findOpenpgpElement(root) : root
        if (el === undefined) throw new UsageError('OX-XML: the <message/> carries no <openpgp/> element')
        const from = opts.from ?? (isMessage(root) ? root.attrs.from : undefined)
        if (typeof from !== 'string')
          throw new UsageError('--from is required (the sender, as the stanza says)')
        const to =
          opts.to ?? (isMessage(root) && typeof root.attrs.to === 'string' ? root.attrs.to : opts.jid)
        const maxAge = opts.maxAge === undefined ? undefined : Number(opts.maxAge)
        if (maxAge !== undefined && !(Number.isFinite(maxAge) && maxAge >= 0))
          throw new UsageError(`--max-age must be a number of seconds, not "${opts.maxAge}"`)
        const now = parseStampOption(opts.now, '--now')
        await withBackend(opts, async (backend) => {
          const r = await backend.decrypt(
            el,
            { from: from as FullJid, to: to as FullJid },
            {
              ...(now === undefined ? {} : { now }),
              ...(maxAge === undefined ? {} : { maxAgeSeconds: maxAge }),
              ...(opts.expectedTo === undefined ? {} : { expectedTo: parseBareJid(opts.expectedTo, 'JID') }),
              allowSignedOnly: opts.allowSignedOnly === true,
              allowUnsigned: opts.allowUnsigned === true,
            },
          )
          const json = {
            signer: r.signed
              ? { jid: r.senderJid, keyId: r.senderKey, fingerprint: keyIdToFingerprint(r.senderKey) }
              : null,
            mode: r.mode,
            encrypted: r.encrypted,
            affixes: { to: r.to, time: r.time?.toISOString(), rpadLength: r.rpadLength },
            payload: r.payload.map((p) => p.toString()),
          }
          // decrypt always prints JSON (--json accepted for symmetry)
          io.output.out(JSON.stringify(json))
        })
      },
    )

  common(ox.command('backup'))
    .description(
      'encrypt our secret key(s) with a fresh backup code: the <secretkey/> payload (to publish) on stdout, the code apart on stderr (or --code-file)',
    )
    .option('--code <code>', 'use this code instead of a fresh one (XXXX-XXXX-XXXX-XXXX-XXXX-XXXX)')
    .option('--code-file <file>', 'write the code to this file (mode 0600) instead of standard error')
    .action(async (opts: Common & { code?: string; codeFile?: string }) => {
      if (opts.code !== undefined && !isBackupCode(opts.code))
        throw new UsageError(
          'OX-BACKUP: a backup code is 24 characters of 1-9A-NP-Z in six dash-separated groups of four',
        )
      await withBackend(opts, async (backend) => {
        const b = await backend.createBackup(opts.code === undefined ? {} : { code: opts.code })
        if (opts.json === true && opts.codeFile === undefined)
          return io.output.out(JSON.stringify({ code: b.code, secretkey: b.element.toString() }))
        // the code never travels with the data it unlocks
        if (opts.codeFile !== undefined) await writeFile(opts.codeFile, `${b.code}\n`, { mode: 0o600 })
        else io.output.err(`Backup code (write it down and keep it apart from the backup): ${b.code}`)
        out(opts.json, { secretkey: b.element.toString() }, b.element.toString())
      })
    })

  common(ox.command('restore'))
    .description(
      'restore our key from a <secretkey/> payload (or Base64 / armored backup) with the code exactly as shown',
    )
    .argument('[file]', 'backup file, or - for standard input', '-')
    .requiredOption('--code <code>', 'the backup code, exactly as shown (dashes included; never normalised)')
    .action(async (file: string, opts: Common & { code: string }) => {
      const text = (await readInput(file, io.stdin)).trim()
      let input: Element | Uint8Array
      if (text.startsWith('<')) input = parseXml(text)
      else if (text.startsWith('-----BEGIN PGP')) {
        const { unarmor } = await import('openpgp')
        input = (await unarmor(text)).data as Uint8Array
      } else {
        // strict: a damaged backup is bad input here, not bytes with the damage silently dropped
        const bytes = decodeBase64(text)
        if (bytes === undefined || bytes.length === 0)
          throw new DecryptionError(
            'OX-BACKUP',
            'the backup is not Base64 (RFC 4648: A-Z a-z 0-9 + /, at most two = of padding, length a multiple of 4)',
          )
        input = bytes
      }
      await withBackend(opts, async (backend, account) => {
        const info = await backend.restoreBackup(input, opts.code)
        out(opts.json, { jid: account, fingerprint: info.fingerprint, keyId: info.keyId }, info.fingerprint)
      })
    })
}
