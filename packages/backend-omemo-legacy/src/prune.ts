/**
 * Bounded session records. libsignal-protocol-typescript 0.0.16 means to keep the receiving
 * chains of the last ten remote ratchet keys (`OLD_RATCHETS_MAX_LENGTH`), but its
 * `removeOldChains` deletes `session[idx]` with a binary-string index instead of
 * `session.chains[idx]` with the Base64 index the chains are stored under: the `oldRatchetList`
 * is trimmed, the chains never are. In a ping-pong every ratchet step leaves one chain behind
 * (~53 bytes), and each load and save (JSON) of the record gets slower with it.
 *
 * {@link pruneSessionRecord} does what the library meant, in the session store we hand it (no
 * patched library): in every session of a record it keeps the current sending chain, the
 * current receiving chain and the chains of the ratchet keys still in `oldRatchetList` (at most
 * ten, which the library trims itself), and drops every other chain — with the skipped message
 * keys it held, as the library intended for chains beyond the ten.
 */

interface SerializedChain {
  readonly chainType?: number
}

interface SerializedSession {
  readonly currentRatchet?: {
    readonly lastRemoteEphemeralKey?: string
    readonly ephemeralKeyPair?: { readonly pubKey?: string }
  }
  readonly oldRatchetList?: ReadonlyArray<{ readonly ephemeralKey?: string }>
  chains?: Record<string, SerializedChain>
}

interface SerializedRecord {
  readonly sessions?: Record<string, SerializedSession>
}

/** The chains of `session` that the library can still use. */
function liveChains(session: SerializedSession): Set<string> {
  const keep = new Set<string>()
  const r = session.currentRatchet
  if (r?.lastRemoteEphemeralKey !== undefined) keep.add(r.lastRemoteEphemeralKey)
  if (r?.ephemeralKeyPair?.pubKey !== undefined) keep.add(r.ephemeralKeyPair.pubKey)
  for (const o of session.oldRatchetList ?? []) if (o.ephemeralKey !== undefined) keep.add(o.ephemeralKey)
  return keep
}

function occurrences(s: string, needle: string): number {
  let n = 0
  for (let i = s.indexOf(needle); i !== -1; i = s.indexOf(needle, i + needle.length)) n++
  return n
}

/**
 * Whether a serialized record may hold a chain the library cannot use, counted on the text
 * without parsing it: a session can use at most its sending chain, its receiving chain and one
 * per `oldRatchetList` entry. Every chain has one `"chainType":`, every session one
 * `"indexInfo":`, every old ratchet one `"ephemeralKey":` (JSON escapes a quote inside a string,
 * so none of these appears inside a key's text). False for most records: only a ratchet step
 * that pushes a key out of the ten old ratchets (or a new session) leaves a chain behind.
 */
export function mayHoldDeadChains(serialized: string): boolean {
  const chains = occurrences(serialized, '"chainType":')
  return chains > occurrences(serialized, '"ephemeralKey":') + 2 * occurrences(serialized, '"indexInfo":')
}

/**
 * A serialized SessionRecord (the library's JSON) without the chains it can no longer use.
 * Returns the input unchanged (same string) when nothing is to be dropped (most records: see
 * {@link mayHoldDeadChains}, no JSON pass then).
 */
export function pruneSessionRecord(serialized: string): string {
  if (!mayHoldDeadChains(serialized)) return serialized
  const record = JSON.parse(serialized) as SerializedRecord
  let dropped = 0
  for (const session of Object.values(record.sessions ?? {})) {
    const chains = session.chains
    if (chains === undefined) continue
    const keep = liveChains(session)
    for (const key of Object.keys(chains))
      if (!keep.has(key)) {
        delete chains[key]
        dropped++
      }
  }
  return dropped === 0 ? serialized : JSON.stringify(record)
}

/** Number of chains over all sessions of a serialized record (tests and figures). */
export function countChains(serialized: string): number {
  const record = JSON.parse(serialized) as SerializedRecord
  let n = 0
  for (const s of Object.values(record.sessions ?? {})) n += Object.keys(s.chains ?? {}).length
  return n
}
