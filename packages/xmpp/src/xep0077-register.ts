/**
 * XEP-0077: In-Band Registration — implements v2.4 (§3.1 account registration, before SASL)
 * https://xmpp.org/extensions/xep-0077.html
 *
 * `@xmpp/client` has no XEP-0077 support: the register IQ is sent inside the `credentials`
 * callback, after the stream features and before SASL, then SASL runs on the same stream.
 */
import xml from '@xmpp/xml'
import { NS_REGISTER } from './namespaces.ts'

/** A registration the server refused (`conflict` = the user exists, `not-allowed`, …). */
export class RegistrationError extends Error {
  override readonly name = 'RegistrationError'
  readonly condition: string
  constructor(condition: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.condition = condition
  }
}

interface IqRequester {
  request(stanza: ReturnType<typeof xml>, timeout?: number): Promise<unknown>
}

/** Sends the §3.1 register IQ on a stream that is not authenticated yet. */
export async function registerInBand(
  iqCaller: IqRequester,
  username: string,
  password: string,
): Promise<void> {
  try {
    await iqCaller.request(
      xml(
        'iq',
        { type: 'set' },
        xml('query', { xmlns: NS_REGISTER }, xml('username', {}, username), xml('password', {}, password)),
      ),
    )
  } catch (e) {
    const condition = (e as { condition?: unknown }).condition
    const cond = typeof condition === 'string' ? condition : 'undefined-condition'
    throw new RegistrationError(
      cond,
      cond === 'conflict'
        ? `XEP-0077: the account ${username} already exists`
        : `XEP-0077: the server refused to register ${username} (${cond})`,
      { cause: e },
    )
  }
}
