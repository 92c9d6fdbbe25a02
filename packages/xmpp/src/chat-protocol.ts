/**
 * Which protocol a chat message goes in when the caller names none (issue 12 point 6: both OMEMO
 * versions on one account). The binding knows no protocol, so the rule is written over what
 * backends declare: their order (the app's preference) and the endpoints each one's key directory
 * announces for the contact (`EncryptionBackend.endpointsOf`, XEP-0384 device ids shared by the
 * OMEMO versions).
 *
 * The rule (also in the README, "Sending chat messages"):
 * 1. the contact's endpoints are the union of the endpoints every backend announces for it;
 * 2. a backend **covers** the contact when it has a key of the contact and announces every one of
 *    those endpoints — or, announcing no endpoints at all (`undefined`: one key per identity, OX),
 *    when it has a key of the contact;
 * 3. the first backend in preference order that covers the contact is chosen (OMEMO 2 when every
 *    device of the contact has it, else OMEMO 0.3 when that one lists them all);
 * 4. when none covers it, the backend reaching the most endpoints is chosen (preference breaks
 *    ties) and the endpoints it misses are returned (`unreached`): never silently fewer devices —
 *    `sendChat` reports them in `SentMessage.unreached`;
 * 5. when no backend has any key of the contact, the first backend is chosen (it fails as it
 *    always did, with its own error).
 */
import type { BareJid, EncryptionBackend } from '@vouch/tm-core'

export interface ChatProtocolChoice {
  readonly backend: EncryptionBackend
  /** endpoints of the contact the chosen backend does not announce (empty when it covers them all) */
  readonly unreached: readonly string[]
}

/** Chooses the backend for a chat message to `to` among `backends` (in preference order). */
export async function chooseChatProtocol(
  backends: readonly EncryptionBackend[],
  to: BareJid,
): Promise<ChatProtocolChoice> {
  const first = backends[0]
  if (first === undefined) throw new RangeError('no backend')
  const views: { backend: EncryptionBackend; hasKey: boolean; endpoints: ReadonlySet<string> | undefined }[] =
    []
  const all = new Set<string>()
  for (const backend of backends) {
    const hasKey = (await backend.keysOf(to)).length > 0
    const announced = backend.endpointsOf === undefined ? undefined : await backend.endpointsOf(to)
    const endpoints = announced === undefined ? undefined : new Set(announced)
    for (const e of endpoints ?? []) all.add(e)
    views.push({ backend, hasKey, endpoints })
  }
  let best: { backend: EncryptionBackend; unreached: string[] } | undefined
  for (const v of views) {
    if (!v.hasKey) continue
    const unreached = v.endpoints === undefined ? [] : [...all].filter((e) => !v.endpoints?.has(e)).sort()
    if (unreached.length === 0) return { backend: v.backend, unreached: [] }
    if (best === undefined || unreached.length < best.unreached.length)
      best = { backend: v.backend, unreached }
  }
  return best ?? { backend: first, unreached: [] }
}
