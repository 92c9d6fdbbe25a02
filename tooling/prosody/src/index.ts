/**
 * @packageDocumentation
 * `@vouch/prosody-tooling`: throwaway Prosody 0.12 servers on loopback for integration tests and
 * the demo. Each {@link startProsody} call copies `prosody.cfg.lua` into a fresh temporary
 * directory, picks free ports, starts `prosody -F --config …` in the background (never as a
 * service, never with `/etc/prosody`), waits until the client port accepts connections, and
 * {@link ProsodyServer.stop} kills it by pid and removes the directory.
 *
 * Enabled: in-band registration (XEP-0077), Carbons (XEP-0280), MAM (XEP-0313, archive
 * everything), PEP (XEP-0163), stream management (XEP-0198), offline storage. No TLS, no s2s.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { accessSync, constants as fsConstants } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The config file this package ships (driven entirely by `PROSODY_*` environment variables). */
export const PROSODY_CONFIG = fileURLToPath(new URL('../prosody.cfg.lua', import.meta.url))

export interface ProsodyServer {
  /** client-to-server port on 127.0.0.1 (connect with `service: xmpp://127.0.0.1:PORT`) */
  readonly port: number
  /** BOSH / WebSocket port on 127.0.0.1 */
  readonly httpPort: number
  /** the virtual host (`localhost`) */
  readonly domain: string
  /** the temporary directory: data, pid, log, config copy */
  readonly dir: string
  /** `xmpp://127.0.0.1:PORT`, the `service` to give `@xmpp/client` */
  readonly service: string
  /** Creates an account offline (`prosodyctl register`); the running server sees it at once. */
  register(user: string, password: string): Promise<void>
  /** The server log so far (for failure messages). */
  log(): Promise<string>
  /** Kills the server by pid, waits for it to exit and removes {@link dir}. Idempotent. */
  stop(): Promise<void>
}

export interface StartProsodyOptions {
  /** Prosody log level (`debug`, `info`, …); default `info` */
  readonly logLevel?: string
  /** how long to wait for the client port, in ms; default 15000 */
  readonly timeoutMs?: number
}

export const PROSODY_DOMAIN = 'localhost'

/** Path of the `prosody` executable on `PATH`, or `undefined` when Prosody is not installed. */
export function findProsody(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, 'prosody')
    try {
      accessSync(candidate, fsConstants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** True when `prosody` is installed (never runs it: `prosody --version` would start a server). */
export function prosodyInstalled(): boolean {
  return findProsody() !== undefined
}

/** The installation hint every caller prints when Prosody is missing. */
export const PROSODY_INSTALL_HINT = 'Prosody is not installed: apt-get install prosody (Debian/Ubuntu)'

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function readOr(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return ''
  }
}

/**
 * Starts a throwaway Prosody. Rejects when Prosody is not installed, exits early, or does not
 * open its port in time (with the tail of its log in the message).
 */
export async function startProsody(options: StartProsodyOptions = {}): Promise<ProsodyServer> {
  const prosody = findProsody()
  if (prosody === undefined) throw new Error(PROSODY_INSTALL_HINT)
  const dir = await mkdtemp(join(tmpdir(), 'vouch-prosody-'))
  await mkdir(join(dir, 'data'), { recursive: true })
  await mkdir(join(dir, 'certs'), { recursive: true })
  const config = join(dir, 'prosody.cfg.lua')
  await copyFile(PROSODY_CONFIG, config)
  const port = await freePort()
  let httpPort = await freePort()
  while (httpPort === port) httpPort = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PROSODY_TEST_DIR: dir,
    PROSODY_C2S_PORT: String(port),
    PROSODY_HTTP_PORT: String(httpPort),
    PROSODY_TLS: '0',
    PROSODY_LOG_LEVEL: options.logLevel ?? 'info',
  }
  const child: ChildProcess = spawn(prosody, ['-F', '--config', config], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString('utf8')
  })
  let exited = child.exitCode !== null
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true
      resolve()
    })
  })

  const log = (): Promise<string> => readOr(join(dir, 'prosody.log'))
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    if (!exited && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM')
      const killed = await Promise.race([exit.then(() => true), sleep(5000).then(() => false)])
      if (!killed && !exited) {
        process.kill(child.pid, 'SIGKILL')
        await exit
      }
    }
    await rm(dir, { recursive: true, force: true })
  }

  const deadline = Date.now() + (options.timeoutMs ?? 15_000)
  for (;;) {
    if (await canConnect(port)) break
    if (exited || Date.now() > deadline) {
      const tail = (await log()).split('\n').slice(-20).join('\n')
      await stop()
      throw new Error(
        exited
          ? `prosody exited early: ${stderr.trim()} ${tail}`
          : `prosody did not open port ${port}: ${tail}`,
      )
    }
    await sleep(50)
  }

  const register = (user: string, password: string): Promise<void> =>
    new Promise((resolve, reject) => {
      execFile(
        'prosodyctl',
        ['--config', config, 'register', user, PROSODY_DOMAIN, password],
        { env },
        (error, _stdout, errOut) => {
          if (error)
            reject(new Error(`prosodyctl register ${user} failed: ${errOut.trim()}`, { cause: error }))
          else resolve()
        },
      )
    })

  return {
    port,
    httpPort,
    domain: PROSODY_DOMAIN,
    dir,
    service: `xmpp://127.0.0.1:${port}`,
    register,
    log,
    stop,
  }
}
