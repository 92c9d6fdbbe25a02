/**
 * A package README's quick start: the first ```ts block under `## Use`. It is what a consumer
 * copies, so it must be complete (every name defined or imported) and run as it stands.
 */

/** The quick start of a README, or `undefined` when it has none. */
export function readQuickStart(readme: string): string | undefined {
  const lines = readme.split('\n')
  const use = lines.findIndex((l) => /^## Use\b/.test(l))
  if (use < 0) return undefined
  let start = -1
  for (let i = use + 1; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (line.startsWith('## ')) return undefined
    if (start < 0 && line.trim() === '```ts') start = i + 1
    else if (start >= 0 && line.trim() === '```') return `${lines.slice(start, i).join('\n')}\n`
  }
  return undefined
}

/** Where a package's quick start runs in the consumer test: `true`, or why it does not. */
export interface QuickStartPlan {
  /** run with `node` from the consumer project */
  readonly node: true | string
  /**
   * `run`: bundled with esbuild (`platform: 'browser'`) and run in Chromium; `bundle`: only
   * bundled (the reason says why it does not run); a string: not bundled, and why.
   */
  readonly browser: 'run' | { readonly bundle: string } | string
  /** `vitest`: the quick start is a test file, run with vitest (default: plain `node`) */
  readonly runner?: 'vitest'
}

/** Every published package's plan. A package missing here fails the test. */
export const PLANS: Readonly<Record<string, QuickStartPlan>> = {
  '@vouch/tm-core': { node: true, browser: 'run' },
  '@vouch/sce': { node: true, browser: 'run' },
  '@vouch/uri': { node: true, browser: 'run' },
  '@vouch/store-memory': { node: true, browser: 'run' },
  '@vouch/atm': { node: true, browser: 'run' },
  '@vouch/pipeline': { node: true, browser: 'run' },
  '@vouch/backend-ox': { node: true, browser: 'run' },
  '@vouch/backend-omemo': { node: true, browser: 'run' },
  // in Chromium over Prosody's WebSocket (the page sets process.env.XMPP_SERVICE to its ws:// URL)
  '@vouch/xmpp': { node: true, browser: 'run' },
  '@vouch/backend-omemo-legacy': { node: true, browser: 'run' },
  '@vouch/omemo-common': { node: true, browser: 'run' },
  '@vouch/store-indexeddb': {
    node: 'IndexedDB is a browser API: the quick start runs in Chromium',
    browser: 'run',
  },
  '@vouch/store-postgres': { node: true, browser: 'pg is a Node driver: Node only by design' },
  '@vouch/store-sqlite': { node: true, browser: 'better-sqlite3 is a Node addon: Node only by design' },
  '@vouch/compliance': {
    node: true,
    runner: 'vitest',
    browser: 'a vitest suite: vitest runs it in a browser (tooling/browser-tests), not a bundle',
  },
}
