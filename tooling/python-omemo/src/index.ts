/**
 * Client for the python-omemo interop harness (`python/serve.py`): python-omemo's SessionManager
 * with python-twomemo (OMEMO 2) or python-oldmemo (OMEMO 0.3) plugged in, run with the system
 * python where Debian's packages live. JSON lines, one request per line, answers matched by id.
 *
 * @packageDocumentation
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** Debian's python, where python3-omemo, python3-twomemo and python3-oldmemo are installed. */
export const SYSTEM_PYTHON = '/usr/bin/python3'
/** The folder of the Python part (`serve.py`, `omemo_harness.py`, one `<flavor>_flavor.py` per OMEMO version). */
export const PYTHON_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'python')

/** `twomemo`: OMEMO 2 (urn:xmpp:omemo:2); `oldmemo`: OMEMO 0.3 (eu.siacs.conversations.axolotl). */
export type OmemoFlavor = 'twomemo' | 'oldmemo'

/** Why python-`flavor` cannot be used here, or undefined when it can. */
export function pythonOmemoUnavailable(flavor: OmemoFlavor): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} is missing`
  const r = spawnSync(SYSTEM_PYTHON, ['-c', `import ${flavor}.etree, omemo`], { encoding: 'utf8' })
  if (r.status !== 0)
    return `python3-${flavor} (with python3-xmlschema) is not installed for ${SYSTEM_PYTHON}: ${r.stderr.trim().split('\n').pop()}`
  return undefined
}

/** The harness answered a request with an error (a Python exception, named by `type`). */
export class HarnessError extends Error {
  override readonly name = 'HarnessError'
  readonly type: string
  constructor(type: string, message: string) {
    super(`${type}: ${message}`)
    this.type = type
  }
}

/** The harness process ended while a request was waiting (its last stderr is in the message). */
export class HarnessExitedError extends Error {
  override readonly name = 'HarnessExitedError'
  readonly code: number | null
  constructor(code: number | null, stderr: string) {
    super(`harness exited (${code}): ${stderr}`)
    this.code = code
  }
}

/** What `decrypt` answers; `outbox` holds the messages python-omemo sent meanwhile (key exchange answers). */
export interface HarnessDecrypted {
  plaintext: string | null
  deviceId: number
  identityKey: string
  outbox: { to: string; xml: string }[]
}

/** One harness process: any number of python devices and the in-memory PEP service they share with the test. */
export class PythonOmemoHarness {
  readonly flavor: OmemoFlavor
  readonly #proc: ChildProcessWithoutNullStreams
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  #next = 1
  #stderr = ''

  constructor(flavor: OmemoFlavor) {
    this.flavor = flavor
    this.#proc = spawn(SYSTEM_PYTHON, [join(PYTHON_DIR, 'serve.py'), flavor], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, // no __pycache__ in the tree
      stdio: ['pipe', 'pipe', 'pipe'],
    })
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
      for (const w of this.#waiting.values()) w.reject(new HarnessExitedError(code, this.#stderr))
      this.#waiting.clear()
    })
  }

  /** Sends one request (`op` and its arguments) and resolves with the `ok` answer. */
  request<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.#proc.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`)
    })
  }

  /** A new python device `name` of `jid`; its bundle and device list go to the shared PEP service. */
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
  decrypt(name: string, from: string, xml: string): Promise<HarnessDecrypted> {
    return this.request('decrypt', { name, from, xml })
  }
  /** Library versions, e.g. `{ twomemo: '1.0.3', omemo: '1.0.2' }`. */
  version(): Promise<Record<string, string>> {
    return this.request('version')
  }

  /** Closes stdin and waits for the process to end. */
  async close(): Promise<void> {
    if (this.#proc.exitCode !== null) return
    const exited = new Promise((r) => this.#proc.once('exit', r))
    this.#proc.stdin.end()
    await exited
  }
}

/** The OMEMO 2 harness (python-twomemo). */
export class TwomemoHarness extends PythonOmemoHarness {
  constructor() {
    super('twomemo')
  }
}

/** The OMEMO 0.3 harness (python-oldmemo). */
export class OldmemoHarness extends PythonOmemoHarness {
  constructor() {
    super('oldmemo')
  }
}

/** Why python-twomemo cannot be used here, or undefined when it can. */
export const twomemoUnavailable = (): string | undefined => pythonOmemoUnavailable('twomemo')
/** Why python-oldmemo cannot be used here, or undefined when it can. */
export const oldmemoUnavailable = (): string | undefined => pythonOmemoUnavailable('oldmemo')
