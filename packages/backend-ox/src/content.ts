/**
 * XEP-0373 v0.7.0 §3.1: the OpenPGP content elements `<signcrypt/>`, `<sign/>` and `<crypt/>`
 * (pure XML: no crypto here).
 *
 * | element        | `<to/>`      | `<time/>`   | `<rpad/>`  | `<payload/>` |
 * | `<signcrypt/>` | at least one | exactly one | at most one| exactly one  |
 * | `<sign/>`      | at least one | exactly one | at most one| exactly one  |
 * | `<crypt/>`     | any number   | exactly one | at most one| exactly one  |
 */
import type { BareJid, ProtectionMode } from '@vouch/tm-core'
import {
  DecryptionError,
  Element,
  LimitExceededError,
  parseDateTime,
  parseXml,
  toBareJid,
} from '@vouch/tm-core'
import { NS_OX } from './constants.ts'
import { childElements, cloneElement, dateTimeOf, nsOf, textOf } from './util.ts'

/** What goes into a content element. */
export interface OxContentInit {
  readonly mode: ProtectionMode
  /** recipients, written bare (`<to jid/>` SHOULD be bare) */
  readonly to: readonly string[]
  readonly time: Date
  /** the stanza children to protect; cloned, the caller's elements are not adopted */
  readonly payload: Element | readonly Element[]
  /** random padding text; omitted when `undefined` */
  readonly rpad?: string | undefined
}

/** A parsed content element. */
export interface OxContent {
  readonly mode: ProtectionMode
  readonly to: readonly BareJid[]
  readonly time: Date
  readonly rpad: string | undefined
  /** the `<payload/>` children */
  readonly payload: readonly Element[]
  /** the whole content element */
  readonly element: Element
}

const MODES: ReadonlySet<string> = new Set<ProtectionMode>(['signcrypt', 'sign', 'crypt'])

/**
 * Builds a content element.
 * @throws InvalidJidError  a `to` that is not a JID
 * @throws DecryptionError  OX-CONTENT: `<signcrypt/>` or `<sign/>` without a recipient, or a
 *   `time` XEP-0082 cannot write (an invalid Date, a year outside 0001–9999)
 */
export function buildContent(init: OxContentInit): Element {
  if (!MODES.has(init.mode))
    throw new DecryptionError('OX-CONTENT', `unknown content element <${init.mode}/>`)
  if (init.mode !== 'crypt' && init.to.length === 0)
    throw new DecryptionError('OX-CONTENT', `<${init.mode}/> needs at least one <to/>`)
  const root = new Element(init.mode, { xmlns: NS_OX })
  for (const jid of init.to) root.c('to', { jid: toBareJid(jid, 'OX-TO') })
  root.c('time', { stamp: dateTimeOf(init.time, 'OX-CONTENT', '<time/>') })
  if (init.rpad !== undefined) root.c('rpad').t(init.rpad)
  const payload = root.c('payload')
  const children = Array.isArray(init.payload) ? init.payload : [init.payload as Element]
  for (const child of children) payload.cnode(cloneElement(child as Element))
  return root
}

/**
 * Parses and checks the structure of a content element (XEP-0373 §3.1). Does not check the
 * receiver rules (`<to/>` match, time window): the backend does, with the stanza at hand.
 *
 * @throws DecryptionError  OX-CONTENT (not a content element, missing or repeated children,
 *   bad JID or stamp), LimitExceededError (OX-SIZE: over `maxChars` or `maxTo`)
 */
export function parseContent(
  input: string | Element,
  limits: { readonly maxChars?: number; readonly maxTo?: number } = {},
): OxContent {
  let root: Element
  if (typeof input === 'string') {
    try {
      root = parseXml(input, { maxChars: limits.maxChars ?? 1 << 20 })
    } catch (e) {
      if (e instanceof Error && e.name === 'LimitExceededError') throw e
      throw new DecryptionError('OX-CONTENT', `content is not XML: ${(e as Error).message}`, { cause: e })
    }
  } else root = input
  const mode = root.name
  if (!MODES.has(mode) || nsOf(root) !== NS_OX)
    throw new DecryptionError(
      'OX-CONTENT',
      `expected <signcrypt/>, <sign/> or <crypt/> in ${NS_OX}, got <${mode.slice(0, 40)}/>`,
    )
  const to: BareJid[] = []
  let time: Date | undefined
  let timeCount = 0
  let rpad: string | undefined
  let rpadCount = 0
  let payload: Element | undefined
  let payloadCount = 0
  const maxTo = limits.maxTo ?? 64
  for (const child of childElements(root)) {
    if (nsOf(child, NS_OX) !== NS_OX) continue // foreign extensions are ignored
    switch (child.name) {
      case 'to': {
        const jid = child.attrs.jid
        if (typeof jid !== 'string') throw new DecryptionError('OX-CONTENT', '<to/> without a jid attribute')
        if (to.length >= maxTo)
          throw new LimitExceededError('OX-SIZE', '<to/> elements', maxTo, to.length + 1)
        let bare: BareJid
        try {
          bare = toBareJid(jid, 'OX-CONTENT')
        } catch (e) {
          throw new DecryptionError('OX-CONTENT', `<to jid/> is not a JID: ${(e as Error).message}`, {
            cause: e,
          })
        }
        to.push(bare)
        break
      }
      case 'time': {
        timeCount++
        const stamp = child.attrs.stamp
        const parsed = typeof stamp === 'string' ? parseDateTime(stamp) : undefined
        if (parsed?.ok !== true)
          throw new DecryptionError('OX-CONTENT', '<time/> without a valid XEP-0082 stamp')
        time = parsed.date
        break
      }
      case 'rpad':
        rpadCount++
        rpad = textOf(child)
        break
      case 'payload':
        payloadCount++
        payload = child
        break
      default:
        throw new DecryptionError('OX-CONTENT', `unexpected <${child.name.slice(0, 40)}/> in <${mode}/>`)
    }
  }
  if (timeCount !== 1 || time === undefined)
    throw new DecryptionError('OX-CONTENT', `<${mode}/> needs exactly one <time/>, found ${timeCount}`)
  if (payloadCount !== 1 || payload === undefined)
    throw new DecryptionError('OX-CONTENT', `<${mode}/> needs exactly one <payload/>, found ${payloadCount}`)
  if (rpadCount > 1) throw new DecryptionError('OX-CONTENT', `<${mode}/> has ${rpadCount} <rpad/> elements`)
  if (mode !== 'crypt' && to.length === 0)
    throw new DecryptionError('OX-CONTENT', `<${mode}/> needs at least one <to/>`)
  return { mode: mode as ProtectionMode, to, time, rpad, payload: childElements(payload), element: root }
}
