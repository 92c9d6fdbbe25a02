/**
 * `pnpm demo --web` (and `pnpm --filter @vouch/web dev`): starts a throwaway loopback Prosody
 * (`@vouch/prosody-tooling`, WebSocket at `/xmpp-websocket`) and this page on a Vite dev server,
 * and prints the address to open. Node-side; the page itself is `src/main.ts`.
 */
import { fileURLToPath } from 'node:url'
import { PROSODY_INSTALL_HINT, prosodyInstalled, startProsody } from '@vouch/prosody-tooling'
import { createServer } from 'vite'

export interface WebDemo {
  /** the page, with the server's WebSocket in its query string */
  readonly url: string
  /** `ws://127.0.0.1:PORT/xmpp-websocket` */
  readonly websocket: string
  stop(): Promise<void>
}

/** Starts Prosody and the page; the caller stops both. */
export async function startWebDemo(options: { readonly port?: number } = {}): Promise<WebDemo> {
  if (!prosodyInstalled()) throw new Error(PROSODY_INSTALL_HINT)
  const prosody = await startProsody()
  try {
    const websocket = `ws://127.0.0.1:${prosody.httpPort}/xmpp-websocket`
    const vite = await createServer({
      root: fileURLToPath(new URL('..', import.meta.url)),
      configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
      logLevel: 'warn',
      server: { host: '127.0.0.1', port: options.port ?? 0, strictPort: false },
    })
    await vite.listen()
    const address = vite.httpServer?.address()
    const port = typeof address === 'object' && address !== null ? address.port : options.port
    const query = new URLSearchParams({ service: websocket, domain: prosody.domain, run: String(Date.now()) })
    return {
      url: `http://127.0.0.1:${port}/?${query}`,
      websocket,
      async stop() {
        await vite.close()
        await prosody.stop()
      },
    }
  } catch (e) {
    await prosody.stop()
    throw e
  }
}

/** Runs the demo until Ctrl-C; resolves to the exit code. */
export async function runWebDemo(print: (line: string) => void = console.log): Promise<number> {
  let demo: WebDemo
  try {
    demo = await startWebDemo({ port: 5173 })
  } catch (e) {
    print((e as Error).message)
    return 1
  }
  print(`Vouch web demo: open ${demo.url}`)
  print(`(Prosody WebSocket ${demo.websocket}; Ctrl-C stops both)`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await demo.stop()
  return 0
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1])
  process.exit(await runWebDemo())
