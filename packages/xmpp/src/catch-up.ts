/**
 * The MAM catch-up (XEP-0313, paged): the archive after the last id we stored, one page per
 * transaction with the archive pointer after it; a stale pointer (`item-not-found`) continues
 * by time and emits `history-incomplete`.
 */
import { getLastArchiveId, getLastArchiveStamp } from './state.ts'
import type { BindingContext } from './binding-types.ts'
import type { Incoming, ReceiveFlow } from './receive.ts'
import type { MamClient, MamPage } from './xep0313-mam.ts'

export function catchUpFlow(
  ctx: BindingContext,
  deps: {
    readonly mam: MamClient
    readonly flow: Pick<ReceiveFlow, 'receiveBatch' | 'pointer'>
    readonly enqueue: (task: () => Promise<void>) => Promise<void>
    readonly isPepEvent: (m: Incoming['message']) => boolean
  },
): () => Promise<{ pages: number; messages: number }> {
  const { init, now, emit, maxStampAgeSeconds } = ctx
  const { mam, enqueue, isPepEvent } = deps
  const mamPageSize = init.mamPageSize ?? 50
  const mamMaxPages = init.mamMaxPages ?? 200

  /**
   * Reads the archive after the last id seen, a page at a time, each page received in one
   * transaction together with the pointer after it. When the server no longer knows that id
   * (`item-not-found`: it lost or expired its archive), catches up by time from the last stamp
   * stored instead (at most `maxStampAgeSeconds` back) and emits `history-incomplete`.
   */
  async function catchUp(): Promise<{ pages: number; messages: number }> {
    deps.flow.pointer.held = false
    let after = await getLastArchiveId(init.store)
    let start: Date | undefined
    let pages = 0
    let messages = 0
    for (;;) {
      let page: MamPage
      try {
        page = await mam.queryPage({
          max: mamPageSize,
          ...(after === undefined ? {} : { after }),
          ...(start === undefined ? {} : { start }),
        })
      } catch (e) {
        if (pages > 0 || after === undefined || start !== undefined || !isItemNotFound(e)) throw e
        const floor = new Date(now().getTime() - maxStampAgeSeconds * 1000)
        const stamp = await getLastArchiveStamp(init.store)
        start = stamp === undefined || stamp < floor ? floor : stamp
        emit('history-incomplete', { lostArchiveId: after, since: start })
        after = undefined
        continue
      }
      pages++
      messages += page.messages.length
      const batch = page.messages
        .filter((m) => !isPepEvent(m.message))
        .map((m): Incoming => ({ message: m.message, source: 'archive', archiveId: m.id, stamp: m.stamp }))
      const lastStamp = page.messages.at(-1)?.stamp ?? now()
      const position = page.last === undefined ? undefined : { id: page.last, stamp: lastStamp }
      await enqueue(() => deps.flow.receiveBatch(batch, position))
      // a message of this page could not be stored: the pointer stays before the page, so the
      // next catch-up reads it again
      if (deps.flow.pointer.held) break
      if (page.last !== undefined) after = page.last
      if (page.complete || page.messages.length === 0) {
        // read to its end: what the backends kept for it goes (OMEMO: pre keys, XEP-0384 v0.9 §6)
        await enqueue(async () => {
          for (const b of ctx.backends.values()) await b.catchUpDone?.()
        })
        break
      }
      if (pages >= mamMaxPages) break
    }
    return { pages, messages }
  }

  return catchUp
}

/** An IQ error `item-not-found` (xmpp.js `StanzaError`): e.g. a MAM `<after/>` id the server does not know. */
function isItemNotFound(e: unknown): boolean {
  return e instanceof Error && (e as { condition?: unknown }).condition === 'item-not-found'
}
