/**
 * Library and server failures of the online commands as one clear line: the rule, the contact
 * and what to do (exit 2 for what the user can fix, see ../io.ts). Matched by the errors'
 * literal `name`s, so this module imports no protocol library.
 */
import { UsageError } from '../io.ts'
import { type AccountRecord, ENCRYPTION_NAMES, encryptionOf } from './accounts.ts'

interface Named {
  readonly name: string
  readonly message: string
  readonly owner?: string
  readonly condition?: string
  readonly rule?: string
}

function encryptionName(acct: AccountRecord): string {
  const e12 = encryptionOf(acct)
  return e12 === 'omemo2,omemo03' ? 'OMEMO 2 or OMEMO 0.3' : ENCRYPTION_NAMES[e12]
}

export function explain(e: unknown, acct: AccountRecord): unknown {
  if (!(e instanceof Error)) return e
  const err = e as Error & Named
  const enc = encryptionName(acct)
  switch (err.name) {
    case 'UntrustedKeyError': {
      const who = err.owner ?? 'the contact'
      return new UsageError(
        `TM-15: ${who} has no ${enc} key this device may encrypt to (none published, or none trusted): ask ${who} to set up ${enc} (vouch account add), or scan their code (vouch uri use); see vouch trust list ${who}`,
      )
    }
    case 'AuthenticationError':
      return new UsageError(
        `ACCOUNT: the server refused the password of ${acct.jid} (${err.condition ?? 'not-authorized'}): check VOUCH_PASSWORD or the password file`,
      )
    case 'RegistrationError':
      return new UsageError(
        err.condition === 'conflict'
          ? `ACCOUNT: ${acct.jid} already exists on the server: use vouch account add (or device add) instead of register`
          : `ACCOUNT: the server did not register ${acct.jid} (${err.condition ?? 'error'}): ${err.message}`,
      )
    case 'KeysNotVisibleError': {
      // @vouch/xmpp: the owner's key nodes are for contacts only (PEP access model presence)
      const who = err.owner ?? 'the contact'
      const reason = (err as { reason?: string }).reason
      return new UsageError(
        reason === 'approval-pending'
          ? `${who} shows its keys to contacts only and has not approved your contact request yet: wait for it (vouch contact list)`
          : reason === 'not-allowed'
            ? `${who} does not let ${acct.jid} read its keys, although you are contacts`
            : `${who} shows its keys to contacts only: vouch contact add ${who}`,
      )
    }
    case 'StanzaError':
      return new UsageError(
        `XMPP: the server refused a request of ${acct.jid} (${err.condition ?? 'error'}): is the contact's JID right and does it exist?`,
      )
    default:
      return e
  }
}

/**
 * {@link explain} for a message being sent. On an OMEMO account, a contact that shows us no keys
 * because we are not its contact is TM-15 (no key to encrypt to) with every way out: the server
 * answers a non-contact the same whether the keys are for contacts only, absent, or the account
 * does not exist (Prosody: `forbidden` for all three), and most OMEMO clients publish their keys
 * openly (Conversations, Converse.js; Profanity is the exception). On OX the contacts line stays:
 * its deployed client (Profanity) shows keys to contacts only.
 */
export function explainSend(e: unknown, acct: AccountRecord): unknown {
  const err = e as Partial<Named> & { reason?: string }
  if (
    !(e instanceof Error) ||
    err.name !== 'KeysNotVisibleError' ||
    err.reason !== 'not-a-contact' ||
    encryptionOf(acct) === 'ox'
  )
    return explain(e, acct)
  const who = err.owner ?? 'the contact'
  const enc = encryptionName(acct)
  return new UsageError(
    `TM-15: ${who} has no ${enc} key this device may encrypt to (it shows no keys to non-contacts: keys for contacts only, or none published): vouch contact add ${who}, ask ${who} to set up ${enc} (vouch account add), or scan their code (vouch uri use)`,
  )
}
