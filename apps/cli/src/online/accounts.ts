/**
 * The local accounts of the online commands (`accounts.json` in the data directory), the data
 * directory itself and how the XMPP password is obtained. Light on purpose: no protocol library
 * is imported here, so `vouch --help` and the offline commands stay fast.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { UsageError } from '../io.ts'

/**
 * The encryptions an account can use; `omemo2` is the default for new accounts. `omemo03` needs
 * the optional GPL-3.0 plugin `@vouch/backend-omemo-legacy` (legacy-omemo.ts); so does
 * `omemo2,omemo03`: one device running both OMEMO versions with one device id and one identity
 * key pair (D-12), OMEMO 2 preferred (session.ts).
 */
export const ENCRYPTIONS = ['omemo2', 'ox', 'omemo03', 'omemo2,omemo03'] as const
export type Encryption = (typeof ENCRYPTIONS)[number]

export const ENCRYPTION_NAMES: Readonly<Record<Encryption, string>> = {
  omemo2: 'OMEMO 2',
  ox: 'OX',
  omemo03: 'OMEMO 0.3',
  'omemo2,omemo03': 'OMEMO 2 + OMEMO 0.3',
}

/**
 * `--encryption`: one of {@link ENCRYPTIONS}; both OMEMO versions may be written in either order
 * or with `+` (`omemo03,omemo2`, `omemo2+omemo03`). Undefined for anything else (OX combines
 * with nothing: one key per account).
 */
export function parseEncryption(text: string): Encryption | undefined {
  const parts = [...new Set(text.split(/[,+]/).map((p) => p.trim()))].sort()
  const key = parts.join(',')
  if (key === 'omemo03,omemo2') return 'omemo2,omemo03'
  return (ENCRYPTIONS as readonly string[]).includes(key) && parts.length === 1
    ? (key as Encryption)
    : undefined
}

export interface AccountRecord {
  readonly jid: string
  readonly service: string
  readonly resource: string
  /** absent in files written before OMEMO 2 came to the CLI: those accounts are OX */
  readonly encryption?: Encryption
  /** only when the user opted in (`--save-password`) */
  readonly password?: string
  /** a file the password is read from each time (`--password-file`, remembered: a path, not a secret) */
  readonly passwordFile?: string
  /** OX: own keys replaced by `device revoke` (hex): `uri show` lists them as distrusted */
  readonly retiredKeys?: readonly string[]
  /**
   * OX: who may read the keys this device publishes (PEP access model): absent = `open` (anybody,
   * XEP-0373 §4.1), `presence` = contacts only (`--key-access presence`)
   */
  readonly keyAccess?: 'presence'
}

export interface Common {
  readonly data?: string
  readonly account?: string
  readonly json?: boolean
}

export function encryptionOf(a: AccountRecord): Encryption {
  return a.encryption ?? 'ox'
}

/** `$XDG_DATA_HOME/vouch`, else `~/.local/share/vouch`, unless `--data DIR`. */
export function dataDir(opts: { readonly data?: string }): string {
  if (opts.data !== undefined) return opts.data
  const xdg = process.env.XDG_DATA_HOME
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.local', 'share'), 'vouch')
}

export async function readAccounts(dir: string): Promise<AccountRecord[]> {
  try {
    return JSON.parse(await readFile(join(dir, 'accounts.json'), 'utf8')) as AccountRecord[]
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return []
    throw e
  }
}

export async function saveAccount(dir: string, account: AccountRecord): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const all = (await readAccounts(dir)).filter((a) => a.jid !== account.jid)
  await writeFile(join(dir, 'accounts.json'), `${JSON.stringify([...all, account], null, 2)}\n`, {
    mode: 0o600,
  })
}

/** The bare JID syntax check the commands share (the full check is tm-core's, in the session). */
export function looksLikeBareJid(text: string): boolean {
  return /^[^@/\s]+@[^@/\s]+$/.test(text)
}

export async function pickAccount(opts: Common): Promise<AccountRecord> {
  const all = await readAccounts(dataDir(opts))
  if (all.length === 0)
    throw new UsageError(
      `ACCOUNT: no account in ${dataDir(opts)} yet: run vouch account add JID (or account register JID) first`,
    )
  if (opts.account === undefined) {
    if (all.length > 1)
      throw new UsageError(
        `ACCOUNT: ${all.length} accounts in ${dataDir(opts)} (${all.map((a) => a.jid).join(', ')}): choose one with --account JID`,
      )
    return all[0] as AccountRecord
  }
  const found = all.find((a) => a.jid === opts.account)
  if (found === undefined) throw new UsageError(`ACCOUNT: no account ${opts.account} in ${dataDir(opts)}`)
  return found
}

/**
 * Runs `fn`; when it fails and the data directory did not exist before, removes the directory
 * again (a failed `account add` leaves nothing behind).
 */
export async function cleanOnFailure<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const existed = existsSync(dir)
  try {
    return await fn()
  } catch (e) {
    if (!existed) await rm(dir, { recursive: true, force: true })
    throw e
  }
}

/** Where a password comes from (README: Security). */
export interface PasswordSources {
  readonly passwordFile?: string
  readonly stdin: NodeJS.ReadableStream
}

/**
 * The XMPP password of `jid`: the stored one (opt-in), the `--password-file` (given now or
 * remembered), `$VOUCH_PASSWORD`, else a prompt without echo on a terminal.
 */
export async function resolvePassword(
  jid: string,
  record: Pick<AccountRecord, 'password' | 'passwordFile'> | undefined,
  sources: PasswordSources,
): Promise<string> {
  if (record?.password !== undefined) return record.password
  const file = sources.passwordFile ?? record?.passwordFile
  if (file !== undefined) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (e) {
      throw new UsageError(
        `ACCOUNT: cannot read the password file ${file} (${(e as { code?: string }).code ?? 'error'}): give a readable file`,
      )
    }
    const pw = text.replace(/\r?\n$/, '')
    if (pw === '') throw new UsageError(`ACCOUNT: the password file ${file} is empty`)
    return pw
  }
  const env = process.env.VOUCH_PASSWORD
  if (env !== undefined && env !== '') return env
  const stdin = sources.stdin as NodeJS.ReadStream
  if (stdin.isTTY === true) return promptHidden(`Password for ${jid}: `, stdin)
  throw new UsageError(
    `ACCOUNT: no password for ${jid}: set VOUCH_PASSWORD, give --password-file FILE, or run on a terminal to be asked`,
  )
}

/** Reads one line from a terminal without echoing it. */
function promptHidden(question: string, tty: NodeJS.ReadStream): Promise<string> {
  process.stderr.write(question)
  return new Promise((resolve, reject) => {
    let value = ''
    tty.setRawMode(true)
    tty.resume()
    tty.setEncoding('utf8')
    const done = (result: string | Error): void => {
      tty.setRawMode(false)
      tty.pause()
      tty.removeListener('data', onData)
      process.stderr.write('\n')
      if (result instanceof Error) reject(result)
      else resolve(result)
    }
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done(value)
          return
        }
        if (ch === '\u0003') {
          done(new UsageError('ACCOUNT: cancelled'))
          return
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    tty.on('data', onData)
  })
}
