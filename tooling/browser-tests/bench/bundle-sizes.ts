/**
 * Browser bundle sizes of every platform-neutral package: its root export (`src/index.ts`, every
 * export kept) bundled for the browser by Vite (rolldown, `browser` conditions, minified, ES
 * module), then gzip -9. "With dependencies" bundles everything it imports (other @vouch
 * packages and npm libraries); "own code" leaves every bare import out.
 *
 *   pnpm exec tsx tooling/browser-tests/bench/bundle-sizes.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'vite'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const PACKAGES = [
  'tm-core',
  'uri',
  'sce',
  'atm',
  'pipeline',
  'store-memory',
  'store-indexeddb',
  'omemo-common',
  'backend-omemo',
  'backend-omemo-legacy',
  'backend-ox',
  'xmpp',
]

async function size(pkg: string, external: boolean): Promise<{ min: number; gzip: number }> {
  const outDir = mkdtempSync(join(tmpdir(), 'vouch-bundle-'))
  try {
    await build({
      root,
      configFile: false,
      logLevel: 'silent',
      resolve: { conditions: ['browser', 'import', 'module', 'default'] },
      build: {
        outDir,
        emptyOutDir: true,
        minify: true,
        target: 'es2022',
        lib: { entry: join(root, 'packages', pkg, 'src', 'index.ts'), formats: ['es'], fileName: 'bundle' },
        rollupOptions: {
          external: external ? (id: string) => !id.startsWith('.') && !id.startsWith('/') : [],
        },
      },
    })
    let min = 0
    let gzip = 0
    for (const f of readdirSync(outDir).filter((n) => n.endsWith('.js'))) {
      const code = readFileSync(join(outDir, f))
      min += code.length
      gzip += gzipSync(code, { level: 9 }).length
    }
    return { min, gzip }
  } finally {
    rmSync(outDir, { recursive: true, force: true })
  }
}

const kb = (n: number): string => (n / 1024).toFixed(1)
console.log(
  '| package (root export, browser) | with dependencies: min | min + gzip | own code: min | min + gzip |',
)
console.log('| --- | --- | --- | --- | --- |')
for (const pkg of PACKAGES) {
  const all = await size(pkg, false)
  const own = await size(pkg, true)
  console.log(
    `| @vouch/${pkg} | ${kb(all.min)} kB | ${kb(all.gzip)} kB | ${kb(own.min)} kB | ${kb(own.gzip)} kB |`,
  )
}
