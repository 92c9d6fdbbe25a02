/**
 * XEP-0313: Message Archive Management — implements v1.1.1 (`urn:xmpp:mam:2`), paged with
 * XEP-0059 Result Set Management v1.0.
 * https://xmpp.org/extensions/xep-0313.html
 */
import type { BareJid } from '@vouch/tm-core'
import type { Client } from '@xmpp/client'
import xml, { type Element } from '@xmpp/xml'
import { NS_DATA_FORMS, NS_DELAY, NS_FORWARD, NS_MAM, NS_RSM } from './namespaces.ts'
import { bareOf, child, randomId } from './util.ts'

/** One archived message. */
export interface ArchivedMessage {
  /** the archive id (`<result id/>`), equal to the live copy's `<stanza-id/>` */
  readonly id: string
  /** XEP-0203 stamp of the archived copy */
  readonly stamp: Date | undefined
  /** the archived `<message/>` */
  readonly message: Element
}

export interface MamPage {
  readonly messages: readonly ArchivedMessage[]
  /** RSM `<last/>`: the id to continue after; undefined for an empty page */
  readonly last: string | undefined
  /** `<fin complete='true'/>`: nothing after this page */
  readonly complete: boolean
}

export interface MamQuery {
  /** continue after this archive id (RSM `<after/>`) */
  readonly after?: string
  /** only messages after this time (form field `start`) */
  readonly start?: Date
  /** page size (RSM `<max/>`) */
  readonly max: number
}

/**
 * The MAM client of one connection: one middleware routes `<result/>` messages to the query
 * that asked for them (by `queryid`), and only when they come from our own archive (from our
 * bare JID or no `from`: anything else could be forged).
 */
export interface MamClient {
  queryPage(query: MamQuery): Promise<MamPage>
}

export function mamClient(xmpp: Client, account: BareJid): MamClient {
  const active = new Map<string, ArchivedMessage[]>()
  xmpp.middleware.use((ctx, next) => {
    const stanza = ctx.stanza
    if (stanza.name !== 'message') return next()
    const result = child(stanza, 'result', NS_MAM)
    if (result === undefined) return next()
    const sink = active.get(String(result.attrs.queryid ?? ''))
    const from = stanza.attrs.from as string | undefined
    if (sink === undefined || (from !== undefined && bareOf(from) !== account)) return undefined // dropped
    const forwarded = child(result, 'forwarded', NS_FORWARD)
    const message = forwarded?.getChild('message')
    const id = result.attrs.id
    if (forwarded === undefined || message === undefined || typeof id !== 'string') return undefined
    const delay = child(forwarded, 'delay', NS_DELAY)
    const stamp = typeof delay?.attrs.stamp === 'string' ? new Date(delay.attrs.stamp) : undefined
    sink.push({
      id,
      stamp: stamp !== undefined && !Number.isNaN(stamp.getTime()) ? stamp : undefined,
      message,
    })
    return undefined
  })

  async function queryPage(query: MamQuery): Promise<MamPage> {
    const queryid = randomId()
    const sink: ArchivedMessage[] = []
    active.set(queryid, sink)
    try {
      const q = xml('query', { xmlns: NS_MAM, queryid })
      const form = q.c('x', { xmlns: NS_DATA_FORMS, type: 'submit' })
      form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS_MAM)
      if (query.start !== undefined) form.c('field', { var: 'start' }).c('value').t(query.start.toISOString())
      const set = q.c('set', { xmlns: NS_RSM })
      set.c('max').t(String(query.max))
      if (query.after !== undefined) set.c('after').t(query.after)
      const res = await xmpp.iqCaller.set(q)
      const fin = res !== undefined && res.name === 'fin' ? res : undefined
      const rsm = fin === undefined ? undefined : child(fin, 'set', NS_RSM)
      const last = rsm?.getChildText('last') ?? sink.at(-1)?.id
      return {
        messages: sink,
        last: last ?? undefined,
        complete: fin?.attrs.complete === 'true' || sink.length === 0,
      }
    } finally {
      active.delete(queryid)
    }
  }

  return { queryPage }
}
