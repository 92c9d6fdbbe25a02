/**
 * OMEMO 0.3 as an optional plugin. `@vouch/backend-omemo-legacy` is GPL-3.0-only (it needs
 * libsignal-protocol-typescript); the CLI is MIT and only names it as an optional peer
 * dependency. It is loaded here, by dynamic `import()`, only when an account uses OMEMO 0.3, and
 * esbuild leaves it out of the bundle (build.mjs). Without it: one line, exit 2.
 */
import { UsageError } from '../io.ts'

export const LEGACY_OMEMO_PACKAGE = '@vouch/backend-omemo-legacy'

export type LegacyOmemoModules = readonly [
  typeof import('@vouch/backend-omemo-legacy'),
  typeof import('@vouch/backend-omemo-legacy/pep'),
  typeof import('@vouch/backend-omemo-legacy/node'),
]

type Importer = () => Promise<LegacyOmemoModules>

// the specifiers are variables so that no bundler follows them into the GPL package
const specifiers = [LEGACY_OMEMO_PACKAGE, `${LEGACY_OMEMO_PACKAGE}/pep`, `${LEGACY_OMEMO_PACKAGE}/node`]

const importPlugin: Importer = async () => {
  try {
    return (await Promise.all(specifiers.map((s) => import(s)))) as unknown as LegacyOmemoModules
  } catch (e) {
    // a workspace checkout links the package's TypeScript sources: load them through tsx
    // (tsImport: a fresh, namespaced import, since Node remembers the failed one)
    if ((e as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e
    const { tsImport } = await import('tsx/esm/api')
    return (await Promise.all(
      specifiers.map((s) => tsImport(s, import.meta.url)),
    )) as unknown as LegacyOmemoModules
  }
}

function notInstalled(e: unknown): boolean {
  const code = (e as { code?: unknown }).code
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((e as Error).message).includes(LEGACY_OMEMO_PACKAGE)
  )
}

/**
 * Loads the OMEMO 0.3 plugin.
 * @throws UsageError `OMEMO03-PLUGIN` when the package is not installed
 */
export async function loadLegacyOmemo(importer: Importer = importPlugin): Promise<LegacyOmemoModules> {
  try {
    return await importer()
  } catch (e) {
    if (notInstalled(e))
      throw new UsageError(
        `OMEMO03-PLUGIN: OMEMO 0.3 needs the optional package ${LEGACY_OMEMO_PACKAGE} (license GPL-3.0-only; the combined work is then under the GPL-3.0): install it next to @vouch/cli, or use --encryption omemo2`,
      )
    throw e
  }
}
