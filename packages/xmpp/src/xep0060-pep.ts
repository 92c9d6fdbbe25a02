/**
 * XEP-0060: Publish-Subscribe — implements v1.26.0 (publish with publish-options §7.1.5, retrieve
 * items §6.5, event notifications §7.1.2.1);
 * XEP-0163: Personal Eventing Protocol — implements v1.2.2 (`+notify` filtered notifications §4).
 * https://xmpp.org/extensions/xep-0060.html  https://xmpp.org/extensions/xep-0163.html
 */
import type { BareJid, PepEvent, PepItem, PublishOptions } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import xml, { type Element } from '@xmpp/xml'
import { NS_DATA_FORMS, NS_PUBSUB, NS_PUBSUB_EVENT, PUBLISH_OPTIONS_FORM_TYPE } from './namespaces.ts'
import { child, childElements } from './util.ts'

/** The `<publish-options/>` data form (XEP-0060 §7.1.5). */
export function publishOptionsElement(options: PublishOptions): Element {
  const el = xml('publish-options', { xmlns: NS_PUBSUB })
  const form = el.c('x', { xmlns: NS_DATA_FORMS, type: 'submit' })
  form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(PUBLISH_OPTIONS_FORM_TYPE)
  for (const [k, v] of Object.entries(options)) form.c('field', { var: k }).c('value').t(v)
  return el
}

/**
 * Publishes `payload` (adopted, not copied) as item `id` of our PEP node `node` with publish options (a precondition:
 * Prosody reconfigures the node or answers `precondition-not-met`).
 */
export async function pepPublish(
  xmpp: Client,
  node: string,
  id: string,
  payload: Element,
  options: PublishOptions = {},
): Promise<void> {
  const pubsub = xml('pubsub', { xmlns: NS_PUBSUB })
  pubsub.c('publish', { node }).c('item', { id }).cnode(payload)
  if (Object.keys(options).length > 0) pubsub.cnode(publishOptionsElement(options))
  await xmpp.iqCaller.set(pubsub)
}

/** Retrieves items of `jid`'s PEP node (one item by id, or the last `max`). */
export async function pepFetch(
  xmpp: Client,
  jid: BareJid,
  node: string,
  select: { readonly id?: string; readonly max?: number } = {},
): Promise<PepItem[]> {
  const items = xml('items', select.max === undefined ? { node } : { node, max_items: String(select.max) })
  if (select.id !== undefined) items.c('item', { id: select.id })
  const res = await xmpp.iqCaller.get(xml('pubsub', { xmlns: NS_PUBSUB }, items), jid)
  const got = res === undefined ? undefined : child(res, 'items', NS_PUBSUB)
  return got === undefined ? [] : readItems(got)
}

function readItems(items: Element): PepItem[] {
  const out: PepItem[] = []
  for (const item of childElements(items)) {
    if (item.name !== 'item') continue
    out.push({ id: String(item.attrs.id ?? ''), payload: childElements(item)[0] })
  }
  return out
}

/** Reads a `<message/>` carrying a pubsub `<event/>` (§7.1.2.1), or `undefined`. */
export function readPepEvent(message: Element, from: BareJid): PepEvent | undefined {
  const event = child(message, 'event', NS_PUBSUB_EVENT)
  const items = event === undefined ? undefined : child(event, 'items', NS_PUBSUB_EVENT)
  if (items === undefined || typeof items.attrs.node !== 'string') return undefined
  const retracted = childElements(items)
    .filter((c) => c.name === 'retract')
    .map((c) => String(c.attrs.id ?? ''))
  return { from, node: items.attrs.node, items: readItems(items), retracted }
}

/** XEP-0163 §4: the `+notify` feature of a node. */
export const notifyFeature = (node: string): string => `${node}+notify`
