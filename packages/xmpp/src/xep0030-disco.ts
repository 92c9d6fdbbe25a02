/**
 * XEP-0030: Service Discovery — implements v2.5rc3 (disco#info responder and query)
 * XEP-0115: Entity Capabilities — implements v1.6.0 (verification string, `<c/>` in presence)
 * https://xmpp.org/extensions/xep-0030.html  https://xmpp.org/extensions/xep-0115.html
 *
 * The server learns our `+notify` features (XEP-0163 §4: filtered notifications) from the caps
 * hash in our presence; it then asks disco#info on `node#ver`, which this responder answers.
 */
import { sha1 } from '@noble/hashes/legacy.js'
import { base64 } from '@scure/base'
import type { Client } from '@xmpp/client'
import xml, { type Element } from '@xmpp/xml'
import { NS_CAPS, NS_DISCO_INFO } from './namespaces.ts'
import { childElements } from './util.ts'

export interface DiscoIdentity {
  readonly category: string
  readonly type: string
  readonly name?: string
}

export interface DiscoInfo {
  readonly identities: readonly DiscoIdentity[]
  readonly features: readonly string[]
}

const utf8 = new TextEncoder()

/** XEP-0115 §5.1 verification string (no extended forms), Base64 of SHA-1. */
export function capsVerification(info: DiscoInfo): string {
  const ids = info.identities.map((i) => `${i.category}/${i.type}//${i.name ?? ''}`).sort()
  const features = [...new Set(info.features)].sort()
  const s = `${[...ids, ...features].join('<')}<`
  return base64.encode(sha1(utf8.encode(s)))
}

/** The `<query xmlns='disco#info'/>` answer. */
export function discoInfoElement(info: DiscoInfo, node?: string): Element {
  const query = xml('query', node === undefined ? { xmlns: NS_DISCO_INFO } : { xmlns: NS_DISCO_INFO, node })
  for (const i of info.identities) {
    const attrs: Record<string, string> = { category: i.category, type: i.type }
    if (i.name !== undefined) attrs.name = i.name
    query.c('identity', attrs)
  }
  for (const f of [...new Set(info.features)].sort()) query.c('feature', { var: f })
  return query
}

/** The XEP-0115 `<c/>` element for our presence. */
export function capsElement(info: DiscoInfo, node: string): Element {
  return xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node, ver: capsVerification(info) })
}

/**
 * Installs a disco#info responder (iqCallee): answers queries without a node and with our caps
 * node (`node#ver`); other nodes get `item-not-found`. `info()` is read at every query, so the
 * features follow the active backends.
 */
export function discoResponder(xmpp: Client, info: () => DiscoInfo, capsNode: string): void {
  xmpp.iqCallee.get(NS_DISCO_INFO, 'query', (ctx: { element: Element }) => {
    const node = ctx.element.attrs.node as string | undefined
    const current = info()
    if (node === undefined) return discoInfoElement(current)
    if (node === `${capsNode}#${capsVerification(current)}`) return discoInfoElement(current, node)
    return xml('error', { type: 'cancel' }, xml('item-not-found', 'urn:ietf:params:xml:ns:xmpp-stanzas'))
  })
}

/** Asks `jid` for its disco#info; returns its identities and features. */
export async function queryDiscoInfo(xmpp: Client, jid: string, node?: string): Promise<DiscoInfo> {
  const query = xml('query', node === undefined ? { xmlns: NS_DISCO_INFO } : { xmlns: NS_DISCO_INFO, node })
  const res = await xmpp.iqCaller.get(query, jid)
  const identities: DiscoIdentity[] = []
  const features: string[] = []
  for (const c of res === undefined ? [] : childElements(res)) {
    if (c.name === 'identity') {
      const id: { category: string; type: string; name?: string } = {
        category: String(c.attrs.category ?? ''),
        type: String(c.attrs.type ?? ''),
      }
      if (typeof c.attrs.name === 'string') id.name = c.attrs.name
      identities.push(id)
    } else if (c.name === 'feature' && typeof c.attrs.var === 'string') features.push(c.attrs.var)
  }
  return { identities, features }
}
