/**
 * Creating and starting an `@xmpp/client` connection the way Vouch needs it: always with an
 * explicit `service` (no SRV or well-known lookups), optional XEP-0077 registration on the same
 * stream, typed, one-line errors for "cannot reach the server" and "the server refused", and
 * the server's stream read by a strict XML parser (`stream-parser.ts`): a stanza with duplicate
 * attributes, characters outside XML 1.0, unbound prefixes or other bad XML fails the stream
 * (`MalformedXmlError`, rule `XML`, on the client's `error` event) and is never delivered; a
 * stanza over a cap (`stanzaLimits`) is not built and arrives as a `type='error'` placeholder
 * (`stanzaLimitError`), the stream going on.
 */
import type { BareJid } from '@vouch/tm-core'
import { type Client, client } from '@xmpp/client'
import xml from '@xmpp/xml'
import { installStrictParser, type StanzaLimits } from './stream-parser.ts'
import { registerInBand } from './xep0077-register.ts'
import { fixStreamManagementCounter } from './xep0198-sm.ts'

export interface ConnectInit {
  /** `xmpp://host:port` (TCP) or `ws://…` — never looked up */
  readonly service: string
  readonly jid: BareJid
  readonly password: string
  /** default: a random one chosen by the server */
  readonly resource?: string
  /** XEP-0077: register the account before authenticating */
  readonly register?: boolean
  /** caps on each received stanza; default `DEFAULT_STANZA_LIMITS` (`stream-parser.ts`) */
  readonly stanzaLimits?: Partial<StanzaLimits>
}

/** The server could not be reached (refused, unreachable, timed out). */
export class ServerUnreachableError extends Error {
  override readonly name = 'ServerUnreachableError'
}

/** The server refused our credentials (SASL failure). */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError'
  readonly condition: string
  constructor(condition: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.condition = condition
  }
}

/** The connection was stopped before the server answered an IQ. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError'
}

/**
 * Creates (does not start) a client for `init.jid`. With `register: true` the account is
 * registered once (XEP-0077): a reconnect of the same client only logs in.
 */
export function createClient(init: ConnectInit): Client {
  const at = init.jid.indexOf('@')
  const username = at < 0 ? '' : init.jid.slice(0, at)
  const domain = at < 0 ? init.jid : init.jid.slice(at + 1)
  let registered = init.register !== true
  const xmpp: Client = client({
    service: init.service,
    domain,
    ...(init.resource === undefined ? {} : { resource: init.resource }),
    credentials: async (authenticate, mechanisms) => {
      if (!registered) {
        await registerInBand(xmpp.iqCaller, username, init.password)
        registered = true
      }
      const mechanism = mechanisms.find((m) => m !== 'PLAIN') ?? mechanisms[0]
      await authenticate(
        { username, password: init.password },
        mechanism ?? 'SCRAM-SHA-1',
        xml('user-agent', { id: globalThis.crypto.randomUUID() }),
      )
    },
  })
  // errors surface as rejections (start, send, iq) and as the binding's `error` event; an
  // `error` event without a listener would crash the process
  xmpp.on('error', () => undefined)
  installStrictParser(xmpp, init.stanzaLimits)
  fixStreamManagementCounter(xmpp)
  // a stopped client never answers: pending IQs reject now instead of holding a 30 s timer each
  xmpp.on('offline', () => rejectPendingIqs(xmpp))
  return xmpp
}

function rejectPendingIqs(xmpp: Client): void {
  const handlers = (xmpp.iqCaller as unknown as { handlers?: Map<string, { reject(e: Error): void }> })
    .handlers
  if (handlers === undefined) return
  for (const [id, deferred] of handlers) {
    handlers.delete(id)
    deferred.reject(new ConnectionClosedError(`the connection was stopped before IQ ${id} was answered`))
  }
}

/**
 * Stops `xmpp` for good: no reconnect, the stream closed, pending IQs rejected
 * ({@link ConnectionClosedError}); nothing of the client keeps the process alive afterwards.
 * Never rejects.
 */
export async function stopClient(xmpp: Client): Promise<void> {
  xmpp.reconnect.stop()
  await xmpp.stop().catch(() => undefined)
  rejectPendingIqs(xmpp)
}

/**
 * Starts `xmpp` and resolves once online. Rejects with {@link ServerUnreachableError},
 * {@link AuthenticationError} or `RegistrationError`; on failure the client is stopped (no
 * reconnect loop keeps the process alive).
 */
export async function startClient(
  xmpp: Client,
  options: { readonly timeoutMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      xmpp.start(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ServerUnreachableError(`the server did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        )
      }),
    ])
  } catch (e) {
    await stopClient(xmpp)
    throw mapConnectError(e, xmpp.options.service ?? '')
  } finally {
    clearTimeout(timer)
  }
}

function mapConnectError(e: unknown, service: string): Error {
  if (!(e instanceof Error)) return new Error(String(e))
  if (e.name === 'RegistrationError' || e.name === 'ServerUnreachableError') return e
  const code = (e as { code?: unknown }).code
  if (
    typeof code === 'string' &&
    /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|ETIMEDOUT|EAI_AGAIN)$/.test(code)
  )
    return new ServerUnreachableError(`cannot reach the XMPP server at ${service} (${code})`, { cause: e })
  if (e.name === 'SASLError') {
    const condition = String((e as { condition?: unknown }).condition ?? 'not-authorized')
    return new AuthenticationError(condition, `the server refused the login (${condition})`, { cause: e })
  }
  return e
}
