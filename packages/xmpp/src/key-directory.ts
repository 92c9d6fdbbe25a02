/**
 * PEP access for the key directories the backend packages ship (their `./pep` export): the binding
 * hands every directory a {@link PepAccess} over its connection and never knows the protocol.
 * The contract itself (`KeyDirectory`, `PepAccess`) lives in `@vouch/tm-core`.
 */
import type { PepAccess } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import { pepFetch, pepPublish } from './xep0060-pep.ts'

export function pepAccess(xmpp: Client): PepAccess {
  return {
    publish: (node, id, payload, options) => pepPublish(xmpp, node, id, payload, options),
    fetch: (jid, node, select) => pepFetch(xmpp, jid, node, select),
  }
}
