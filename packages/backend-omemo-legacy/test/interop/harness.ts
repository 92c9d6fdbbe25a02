/**
 * Client for `oldmemo_harness.py` (python-oldmemo through python-omemo's SessionManager), run
 * with the system python where Debian's python3-oldmemo lives. JSON lines, one request at a time.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const SYSTEM_PYTHON = '/usr/bin/python3'
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'oldmemo_harness.py')

/** Why python-oldmemo cannot be used here, or undefined when it can. */
export function oldmemoUnavailable(): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} is missing`
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import oldmemo.etree, omemo'], { encoding: 'utf8' })
  if (r.status !== 0)
    return `python3-oldmemo (with python3-xmlschema) is not installed for ${SYSTEM_PYTHON}: ${r.stderr.trim().split('\n').pop()}`
  return undefined
}

export class HarnessError extends Error {
  override readonly name = 'HarnessError'
  readonly type: string
  constructor(type: string, message: string) {
    super(`${type}: ${message}`)
    this.type = type
  }
}

export class OldmemoHarness {
  readonly #proc: ChildProcessWithoutNullStreams
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  #next = 1
  #stderr = ''

  constructor() {
    this.#proc = spawn(SYSTEM_PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.#proc.stderr.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-4000)
    })
    createInterface({ input: this.#proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { id: number; ok?: unknown; error?: { type: string; message: string } }
      const w = this.#waiting.get(msg.id)
      if (w === undefined) return
      this.#waiting.delete(msg.id)
      if (msg.error !== undefined) w.reject(new HarnessError(msg.error.type, msg.error.message))
      else w.resolve(msg.ok)
    })
    this.#proc.on('exit', (code) => {
      for (const w of this.#waiting.values()) w.reject(new Error(`harness exited (${code}): ${this.#stderr}`))
      this.#waiting.clear()
    })
  }

  request<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.#proc.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`)
    })
  }

  create(name: string, jid: string): Promise<{ deviceId: number; identityKey: string }> {
    return this.request('create', { name, jid })
  }
  putBundle(jid: string, deviceId: number, xml: string): Promise<unknown> {
    return this.request('put_bundle', { jid, deviceId, xml })
  }
  putDevices(jid: string, xml: string): Promise<unknown> {
    return this.request('put_devices', { jid, xml })
  }
  getBundle(jid: string, deviceId: number): Promise<{ xml: string | null }> {
    return this.request('get_bundle', { jid, deviceId })
  }
  getDevices(jid: string): Promise<{ xml: string | null }> {
    return this.request('get_devices', { jid })
  }
  encrypt(name: string, to: readonly string[], plaintext: Uint8Array): Promise<{ xml: string }> {
    return this.request('encrypt', { name, to, plaintext: Buffer.from(plaintext).toString('base64') })
  }
  decrypt(
    name: string,
    from: string,
    xml: string,
  ): Promise<{
    plaintext: string | null
    deviceId: number
    identityKey: string
    outbox: { to: string; xml: string }[]
  }> {
    return this.request('decrypt', { name, from, xml })
  }

  async close(): Promise<void> {
    this.#proc.stdin.end()
    await new Promise((r) => this.#proc.once('exit', r))
  }
}
