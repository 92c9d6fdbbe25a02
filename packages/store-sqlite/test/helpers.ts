import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BareJid, ChangeContext, KeyId } from '@vouch/tm-core/contracts'

export const NS = 'urn:xmpp:omemo:2'
export const ME = 'me@example.org' as BareJid
export const BOB = 'bob@example.org' as BareJid
export const ctx = (at: number): ChangeContext => ({ provenance: { kind: 'manual' }, at })
export const kid = (s: string): KeyId => s as KeyId
export const jid = (s: string): BareJid => s as BareJid

/** A fresh temp directory; `cleanup()` removes it. */
export function tempDir(): {
  readonly dir: string
  readonly file: (name: string) => string
  cleanup(): void
} {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-store-sqlite-'))
  return {
    dir,
    file: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
