/**
 * XEP-0198: Stream Management — a fix for the inbound counter of `@xmpp/stream-management`
 * 0.14 (which implements the rest: enable, acks, resumption).
 * https://xmpp.org/extensions/xep-0198.html
 *
 * The library resets its count of handled stanzas (`h`) only a few microtasks after
 * `<enabled/>` was parsed (`enabled()` runs after an `await` of the enable procedure). When the
 * server sends `<enabled/>` and more stanzas plus an `<r/>` in one TCP read, which happens when
 * the client sends stanzas right after resource binding ('online' comes before SM is enabled),
 * those stanzas are counted and acknowledged (`<a h='n'/>`), and then the count is reset to 0:
 * the next `<a/>` acknowledges fewer stanzas than the previous one. Prosody 0.12 closes the
 * stream for that ("Client acknowledged less stanzas than already acknowledged"), the session's
 * pending IQs are never answered and the reconnect starts a new session.
 *
 * The fix: the counter is reset when `<enabled/>` is parsed (§4: it starts with `<enabled/>`),
 * before the next element of the same read is counted, and the library's late reset that
 * follows is ignored.
 */
import type { Client } from '@xmpp/client'
import type { Element } from '@xmpp/xml'

export const NS_SM = 'urn:xmpp:sm:3'

const fixed = new WeakSet<object>()

/** Installs the fix on `xmpp` (before `start()`); idempotent. */
export function fixStreamManagementCounter(xmpp: Client): void {
  const sm = xmpp.streamManagement as unknown as { inbound: number }
  if (fixed.has(sm)) return
  fixed.add(sm)
  let inbound = typeof sm.inbound === 'number' ? sm.inbound : 0
  /** set on `<enabled/>`: the library's own reset is still to come */
  let lateResetPending = false
  Object.defineProperty(sm, 'inbound', {
    configurable: true,
    enumerable: true,
    get: () => inbound,
    set: (value: number) => {
      if (lateResetPending && value === 0) {
        lateResetPending = false
        return
      }
      inbound = value
    },
  })
  xmpp.on('nonza', (element: Element) => {
    if (!element.is('enabled', NS_SM)) return
    inbound = 0
    lateResetPending = true
  })
  // a reset on a later stream (offline, next <enabled/>) is never swallowed
  xmpp.on('disconnect', () => {
    lateResetPending = false
  })
}

/** The events of `@xmpp/stream-management` 0.14 (`ack`, `fail`, `resumed`; not in its types). */
export interface SmEvents {
  on?: (e: string, l: (s: Element) => void) => void
  removeListener?: (e: string, l: (s: Element) => void) => void
}

/** The stream management plugin of `xmpp` as an emitter. */
export function smEvents(xmpp: Client): SmEvents {
  return xmpp.streamManagement as unknown as SmEvents
}
