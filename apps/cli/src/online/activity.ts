/**
 * When this device last received a message from a key (`activity.json` in the data directory):
 * the "last activity" column of `vouch device list`. Written by `chat listen` and `chat JID`.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** `"<owner> <KEY HEX>"` → ISO time of the last message received from that key. */
export type Activity = Record<string, string>

export async function readActivity(dir: string): Promise<Activity> {
  try {
    return JSON.parse(await readFile(join(dir, 'activity.json'), 'utf8')) as Activity
  } catch {
    return {}
  }
}

export async function recordActivity(dir: string, seen: Activity): Promise<void> {
  if (Object.keys(seen).length === 0) return
  const all = await readActivity(dir)
  for (const [k, t] of Object.entries(seen)) if ((all[k] ?? '') < t) all[k] = t
  await writeFile(join(dir, 'activity.json'), `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 })
}
