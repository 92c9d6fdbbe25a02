/**
 * Input, output and error conventions shared by every `vouch` command:
 * - input from a FILE argument or standard input (`-` or no argument);
 * - results on stdout (JSON or XML), nothing else;
 * - bad input: exit code 2 and ONE line on stderr naming the broken rule (`TM-8: …`), nothing on
 *   stdout; any other failure: exit code 1.
 */
import { readFile } from 'node:fs/promises'
import { parseDateTime } from '@vouch/sce'
import { isVouchError } from '@vouch/tm-core'

/** Exit code for input that breaks a rule. */
export const EXIT_BAD_INPUT = 2
/** Exit code for everything else that went wrong. */
export const EXIT_FAILURE = 1

/** Thrown by commands for usage problems that are not rule violations (exit 2, one line). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export async function readInput(
  file: string | undefined,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  if (file !== undefined && file !== '-') {
    try {
      return await readFile(file, 'utf8')
    } catch (e) {
      const code = (e as { code?: string }).code
      if (code === 'ENOENT')
        throw new UsageError(
          `INPUT: there is no file ${file}: give an existing file, or - for standard input`,
        )
      if (code === 'EISDIR')
        throw new UsageError(`INPUT: ${file} is a directory: give a file, or - for standard input`)
      if (code === 'EACCES') throw new UsageError(`INPUT: ${file} cannot be read (permission denied)`)
      throw e
    }
  }
  const chunks: Buffer[] = []
  for await (const chunk of stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Reads a `--now`-style option as an XEP-0082 DateTime (D-2: without a zone it is UTC, never the
 * local time zone); `undefined` when the option is absent.
 */
export function parseStampOption(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined
  const parsed = parseDateTime(value)
  if (!parsed.ok)
    throw new UsageError(`${flag} must be an XEP-0082 DateTime, not "${value}" (${parsed.reason})`)
  return parsed.date
}

export function parseJsonInput(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new UsageError(`JSON: input is not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
}

export interface Output {
  out(text: string): void
  err(text: string): void
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
}

/** Maps an error to the CLI's conventions; returns the exit code. */
export function reportError(e: unknown, output: Output = processOutput): number {
  if (isVouchError(e) || (e instanceof Error && e.name === 'UsageError')) {
    output.err(oneLine(e.message))
    return EXIT_BAD_INPUT
  }
  if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('commander.')) {
    return EXIT_BAD_INPUT
  }
  if (e instanceof Error && 'code' in e && e.code === 'ENOENT') {
    output.err(oneLine(e.message))
    return EXIT_BAD_INPUT
  }
  output.err(oneLine(e instanceof Error ? `${e.name}: ${e.message}` : String(e)))
  return EXIT_FAILURE
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim()
}
