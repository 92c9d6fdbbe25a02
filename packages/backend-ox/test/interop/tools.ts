/**
 * Running GnuPG and sqop from the interop tests: a temporary GNUPGHOME per run (the user's
 * keyring is never touched), synchronous processes with stdin as bytes, and the rule that a
 * missing tool fails in CI (`process.env.CI`) and skips visibly elsewhere.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Element } from '@vouch/tm-core'

export interface Run {
  readonly status: number
  readonly stdout: Buffer
  readonly stderr: string
}

export function run(
  cmd: string,
  args: readonly string[],
  input?: Uint8Array | string,
  env: NodeJS.ProcessEnv = {},
): Run {
  const r = spawnSync(cmd, args, {
    input:
      input === undefined ? undefined : typeof input === 'string' ? Buffer.from(input) : Buffer.from(input),
    env: { ...process.env, LC_ALL: 'C', ...env },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  })
  if (r.error !== undefined) throw r.error
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString('utf8') }
}

/** Throws with the tool's stderr unless it exited 0. */
export function ok(r: Run, what: string): Buffer {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${r.stderr.slice(0, 2000)}`)
  return r.stdout
}

export function toolAvailable(cmd: string): boolean {
  try {
    // SOP tools have a `version` subcommand, GnuPG a `--version` flag
    const args = cmd.startsWith('gpg') ? ['--version'] : ['version']
    return spawnSync(cmd, args, { timeout: 10_000 }).status === 0
  } catch {
    return false
  }
}

/** Skip (visibly) only outside CI; in CI a missing tool makes the suite fail. */
export function skipWithout(cmd: string): boolean {
  return !toolAvailable(cmd) && !process.env.CI
}

export function tempDir(prefix: string): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(path, 0o700)
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/** A gpg with its own temporary home. */
export class Gpg {
  readonly home: string
  readonly #cleanup: () => void
  constructor() {
    const dir = tempDir('vouch-gpg-')
    this.home = dir.path
    this.#cleanup = dir.cleanup
  }
  run(args: readonly string[], input?: Uint8Array | string): Run {
    return run(
      'gpg',
      [
        '--homedir',
        this.home,
        '--batch',
        '--yes',
        '--no-tty',
        '--pinentry-mode',
        'loopback',
        '--trust-model',
        'always',
        '--no-auto-key-retrieve',
        ...args,
      ],
      input,
    )
  }
  ok(args: readonly string[], input?: Uint8Array | string): Buffer {
    return ok(this.run(args, input), `gpg ${args.join(' ')}`)
  }
  /** Generates an unprotected ed25519/cv25519 key; returns its fingerprint. */
  genKey(uid: string, extra: readonly string[] = [], expire = 'never'): string {
    const r = this.ok([
      ...extra,
      '--passphrase',
      '',
      '--status-fd',
      '1',
      '--quick-gen-key',
      uid,
      'future-default',
      'default',
      expire,
    ])
    const m = /KEY_CREATED \w (\w{40})/.exec(r.toString('utf8'))
    if (m?.[1] === undefined) throw new Error(`no fingerprint in gpg output: ${r.toString('utf8')}`)
    return m[1]
  }
  file(name: string, content: Uint8Array | string): string {
    const p = join(this.home, name)
    writeFileSync(p, content)
    return p
  }
  close(): void {
    run('gpgconf', ['--homedir', this.home, '--kill', 'gpg-agent'])
    this.#cleanup()
  }
}

/** `[GNUPG:] VALIDSIG <fpr> …` lines of a status output. */
export function validSigFingerprints(status: string): string[] {
  return [...status.matchAll(/\[GNUPG:\] VALIDSIG (\w{40})/g)].map((m) => m[1] as string)
}

/** An `<openpgp/>` element around raw bytes (what another client sends). */
export function openpgpOf(bytes: Uint8Array): Element {
  return new Element('openpgp', { xmlns: 'urn:xmpp:openpgp:0' }).t(Buffer.from(bytes).toString('base64'))
}
