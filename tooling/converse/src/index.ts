/**
 * @packageDocumentation
 * `@vouch/converse-tooling`: Converse.js 14 (the npm package's prebuilt `dist/`) on a static page
 * served on loopback, in Debian's headless Chromium driven by `playwright-core`, logged in to a
 * loopback Prosody over WebSocket. The page (`page/`) registers a small plugin that hands the
 * test Converse's own API (`window.harness`): open a chat and send, read the chat, add a
 * contact, list a contact's OMEMO devices with their fingerprints, mark a device trusted. That
 * is what a Converse user does in its UI; nothing of Converse is patched.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** True when the Chromium executable exists. */
export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM)
}

export const CHROMIUM_INSTALL_HINT = 'Chromium is not installed: apt-get install chromium (Debian)'

/**
 * Launch flags that work as root on a machine without outside network (TOOLCHAIN "Chromium"):
 * no sandbox (root), no GPU, no QUIC, and none of the background connections Chromium makes.
 */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
])

const PAGE_DIR = fileURLToPath(new URL('../page/', import.meta.url))

/** The `dist/` folder of the installed converse.js package. */
export function converseDist(): string {
  const require = createRequire(import.meta.url)
  return dirname(require.resolve('converse.js/dist/converse.min.js'))
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.map': 'application/json',
}

export interface StaticServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string
  /** the paths requested that were not found (for failure messages) */
  readonly missing: readonly string[]
  close(): Promise<void>
}

/**
 * Serves the harness page at `/` and Converse's `dist/` at `/converse/` on 127.0.0.1 (a free
 * port). Only files under those two folders are served.
 */
export async function serveHarness(): Promise<StaticServer> {
  const roots: Array<[string, string]> = [
    ['/converse/', converseDist()],
    ['/', PAGE_DIR],
  ]
  const missing: string[] = []
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const root = roots.find(([prefix]) => path.startsWith(prefix))
    if (root === undefined) {
      res.writeHead(404).end()
      return
    }
    const rel = path.slice(root[0].length) || 'index.html'
    const file = normalize(join(root[1], rel))
    if (!file.startsWith(normalize(root[1]) + (root[1].endsWith(sep) ? '' : sep)) && file !== root[1]) {
      res.writeHead(403).end()
      return
    }
    readFile(file).then(
      (body) => {
        res.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
        })
        res.end(body)
      },
      () => {
        missing.push(path)
        res.writeHead(404).end()
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    missing,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A Converse message as the harness reads it from the chat. */
export interface ConverseMessage {
  readonly body: string | null
  readonly sender: 'me' | 'them'
  readonly encrypted: boolean
  readonly encryption: string | null
  readonly error: string | null
  readonly type: string
}

/** One OMEMO device of a contact, as Converse knows it (fingerprint: hex of the identity key). */
export interface ConverseDevice {
  readonly id: string
  /** 1 trusted, 0 undecided, -1 untrusted */
  readonly trusted: number
  readonly active: boolean
  readonly fingerprint: string | undefined
}

export interface ConverseInit {
  /** the static server of {@link serveHarness} */
  readonly origin: string
  /** Prosody's WebSocket endpoint, e.g. `ws://127.0.0.1:PORT/xmpp-websocket` */
  readonly websocketUrl: string
  readonly jid: string
  readonly password: string
  /** Converse's log level in the browser console; default `warn` */
  readonly logLevel?: string
  /** collects the browser console (and page errors) here */
  readonly console?: string[]
}

export interface ConverseUser {
  /** Converse's own OMEMO device id (the same id for OMEMO 2 and 0.3) */
  deviceId(): Promise<number>
  addContact(jid: string, name?: string): Promise<void>
  /** the roster subscription state of `jid` (`none`, `to`, `from`, `both`), or null */
  subscription(jid: string): Promise<string | null>
  devices(jid: string, version?: string): Promise<ConverseDevice[]>
  setTrust(jid: string, deviceId: number | string, trusted: 1 | 0 | -1, version?: string): Promise<void>
  send(jid: string, body: string): Promise<void>
  /**
   * Opens the chat with `jid` as a user does before a message arrives, and waits until Converse's
   * archive query for the new chat is handled.
   */
  openChat(jid: string): Promise<void>
  messages(jid: string): Promise<ConverseMessage[]>
  /** Waits until `pred` holds for the chat's messages; returns them. */
  waitForMessages(
    jid: string,
    pred: (ms: readonly ConverseMessage[]) => boolean,
    timeoutMs?: number,
  ): Promise<ConverseMessage[]>
  /** A PNG of the Converse window. */
  screenshot(path: string): Promise<void>
  close(): Promise<void>
}

/**
 * Starts Chromium (a fresh profile) with the harness page logged in as `jid`, and waits until
 * Converse is connected and its OMEMO is initialised.
 */
export async function launchConverse(init: ConverseInit): Promise<ConverseUser> {
  const { chromium } = await import('playwright-core')
  const profile = await mkdtemp(join(tmpdir(), 'vouch-converse-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1100, height: 760 },
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const log = init.console
  if (log !== undefined) {
    page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`))
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`))
  }
  const q = new URLSearchParams({
    ws: init.websocketUrl,
    jid: init.jid,
    password: init.password,
    loglevel: init.logLevel ?? 'warn',
  })
  const close = async (): Promise<void> => {
    await context.close().catch(() => undefined)
    await rm(profile, { recursive: true, force: true })
  }
  try {
    await page.goto(`${init.origin}/index.html?${q}`)
    await page.waitForFunction(
      () => (globalThis as unknown as { harness?: { ready: boolean } }).harness?.ready === true,
      null,
      {
        timeout: 30_000,
      },
    )
  } catch (e) {
    await close()
    throw e
  }

  type H = Record<string, (...args: unknown[]) => unknown>
  const call = <T>(name: string, ...args: unknown[]): Promise<T> =>
    page.evaluate(
      ([n, a]) =>
        ((globalThis as unknown as { harness: H }).harness[n as string] as (...x: unknown[]) => unknown)(
          ...(a as unknown[]),
        ),
      [name, args] as const,
    ) as Promise<T>

  const user: ConverseUser = {
    deviceId: () => call<number>('deviceId').then(Number),
    addContact: (jid, name) => call('addContact', jid, name ?? jid),
    subscription: (jid) => call('subscription', jid),
    devices: (jid, version) => call('devices', jid, ...(version === undefined ? [] : [version])),
    setTrust: (jid, id, trusted, version) =>
      call('setTrust', jid, String(id), trusted, ...(version === undefined ? [] : [version])),
    send: (jid, body) => call('send', jid, body),
    openChat: (jid) => call('openChat', jid),
    messages: (jid) => call('messages', jid),
    async waitForMessages(jid, pred, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs
      for (;;) {
        const ms = await user.messages(jid)
        if (pred(ms)) return ms
        if (Date.now() > until)
          throw new Error(
            `Converse: timed out waiting for messages with ${jid}; has ${JSON.stringify(ms)}` +
              (log === undefined ? '' : `\nbrowser console:\n${log.slice(-40).join('\n')}`),
          )
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async screenshot(path) {
      await page.screenshot({ path })
    },
    close,
  }
  return user
}
export type { VouchUser, VouchUserInit } from './vouch.ts'
export { befriend, eventually, startVouchUser, TEST_PASSWORD } from './vouch.ts'
