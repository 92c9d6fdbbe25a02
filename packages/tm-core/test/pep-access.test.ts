/**
 * PEP-ACCESS: which failures of a `PepAccess.fetch` mean "we may not read this node" (its owner
 * shows it to contacts only; Prosody answers `forbidden` to a non-contact, other servers
 * `not-authorized` with `<presence-subscription-required/>`, XEP-0060 §6.5.9.3), as opposed to a
 * node that does not exist or any other failure. The key directories report the first as
 * `KeysNotVisibleError` (through the binding) and read the second as "no keys".
 */
import { describe, expect, it } from 'vitest'
import { Element, isPepAccessDenied } from '../src/index.ts'

/** An IQ error as xmpp.js rejects with it: `condition`, and the `<error/>` element. */
function iqError(condition: string, app?: string): Error {
  const error = new Element('error', { type: 'auth' })
  error.c(condition, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })
  if (app !== undefined) error.c(app, { xmlns: 'http://jabber.org/protocol/pubsub#errors' })
  return Object.assign(new Error(condition), { condition, element: error })
}

describe('PEP-ACCESS: a refused fetch told apart from a missing node', () => {
  it('forbidden, not-authorized and presence-subscription-required are refusals', () => {
    expect(isPepAccessDenied(iqError('forbidden'))).toBe(true)
    expect(isPepAccessDenied(iqError('not-authorized', 'presence-subscription-required'))).toBe(true)
    // the condition only in the element (an error built from the stanza, not by xmpp.js)
    const e = new Error('refused')
    const iq = new Element('iq', { type: 'error' })
    iq.c('error', { type: 'auth' }).c('presence-subscription-required', {
      xmlns: 'http://jabber.org/protocol/pubsub#errors',
    })
    expect(isPepAccessDenied(Object.assign(e, { element: iq }))).toBe(true)
  })

  it('item-not-found, other conditions, plain errors and non-errors are not', () => {
    expect(isPepAccessDenied(iqError('item-not-found'))).toBe(false)
    expect(isPepAccessDenied(iqError('service-unavailable'))).toBe(false)
    expect(isPepAccessDenied(iqError('remote-server-not-found'))).toBe(false)
    expect(isPepAccessDenied(new Error('item-not-found'))).toBe(false)
    expect(isPepAccessDenied(new Error('timeout'))).toBe(false)
    expect(isPepAccessDenied({ condition: 'forbidden' })).toBe(false)
    expect(isPepAccessDenied(undefined)).toBe(false)
    expect(isPepAccessDenied(Object.assign(new Error('x'), { element: 'not an element' }))).toBe(false)
  })
})
