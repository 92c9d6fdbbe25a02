/**
 * Without a server: the XEP-0198 inbound counter after `<enabled/>` (a fix over
 * `@xmpp/stream-management` 0.14) and `synced()` always settling. The client is never started;
 * a fake transport records what is sent and the test plays the server by handing elements to
 * the connection exactly as its XML parser would.
 */
import { memoryStore } from '@vouch/store-memory'
import type { BareJid } from '@vouch/tm-core'
import xml, { type Element } from '@xmpp/xml'
import { describe, expect, it } from 'vitest'
import { SyncError, vouchXmpp } from '../src/binding.ts'
import { type Fake, fakeClient } from './fake-client.ts'
import { ConnectionClosedError, stopClient } from '../src/connect.ts'
import { NS_CARBONS, NS_MAM } from '../src/namespaces.ts'
import { NS_SM } from '../src/xep0198-sm.ts'

const alice = 'alice@localhost' as BareJid

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))
const acks = (sent: readonly Element[]): number[] =>
  sent.filter((e) => e.is('a', NS_SM)).map((e) => Number(e.attrs.h))

describe('XEP-0198 inbound counter after <enabled/>', () => {
  it('stanzas that arrive in the same read as <enabled/> stay counted, so <a h/> never goes down', async () => {
    const { xmpp, sent, receive } = fakeClient()
    receive(
      xml(
        'stream:features',
        { 'xmlns:stream': 'http://etherx.jabber.org/streams' },
        xml('sm', { xmlns: NS_SM }),
      ),
    )
    await tick()
    expect(sent.some((e) => e.is('enable', NS_SM))).toBe(true)
    // what Prosody sends when the client was fast after binding: <enabled/>, then the echo of
    // our presence, an IQ result and an ack request, all in one TCP segment
    receive(
      xml('enabled', { xmlns: NS_SM, id: 'sm-1', resume: 'true', max: '120' }),
      xml('presence', { from: `${alice}/r` }),
      xml('iq', { type: 'result', id: 'unknown-1', to: `${alice}/r` }),
      xml('r', { xmlns: NS_SM }),
    )
    await tick() // the library's own handling of <enabled/> runs here
    expect((xmpp.streamManagement as unknown as { enabled: boolean }).enabled).toBe(true)
    receive(xml('r', { xmlns: NS_SM }))
    await tick()
    receive(xml('message', { from: 'bob@localhost/b', type: 'headline' }), xml('r', { xmlns: NS_SM }))
    await tick()
    expect(acks(sent)).toEqual([2, 2, 3])
  })

  it('a new <enabled/> on a later stream starts the count at zero again', async () => {
    const { xmpp, sent, receive } = fakeClient()
    const features = xml(
      'stream:features',
      { 'xmlns:stream': 'http://etherx.jabber.org/streams' },
      xml('sm', { xmlns: NS_SM }),
    )
    receive(features)
    await tick()
    receive(xml('enabled', { xmlns: NS_SM, id: 'sm-1' }), xml('presence', {}))
    await tick()
    xmpp.emit('disconnect', { clean: false })
    xmpp.emit('offline')
    ;(xmpp.streamManagement as unknown as { id: string }).id = '' // not resumable
    receive(features)
    await tick()
    receive(xml('enabled', { xmlns: NS_SM, id: 'sm-2' }), xml('r', { xmlns: NS_SM }))
    await tick()
    expect(acks(sent)).toEqual([0])
  })
})

/** Answers IQs like a server with an empty archive: Carbons on, MAM `<fin complete/>`. */
function emptyServer(sent: Element, fake: Fake): void {
  if (sent.name !== 'iq' || sent.attrs.type !== 'set') return
  const id = String(sent.attrs.id)
  const to = `${alice}/r`
  setImmediate(() => {
    if (sent.getChild('enable', NS_CARBONS) !== undefined) fake.receive(xml('iq', { type: 'result', id, to }))
    else if (sent.getChild('query', NS_MAM) !== undefined)
      fake.receive(xml('iq', { type: 'result', id, to }, xml('fin', { xmlns: NS_MAM, complete: 'true' })))
  })
}

function binding(fake: Fake, timeoutMs?: number) {
  return vouchXmpp(fake.xmpp, {
    store: memoryStore().forAccount(alice),
    backends: [],
    ...(timeoutMs === undefined ? {} : { syncTimeoutMs: timeoutMs }),
  })
}

async function rejection(p: Promise<unknown>): Promise<SyncError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(SyncError)
  return e as SyncError
}

describe('synced() always settles', () => {
  it('resolves once Carbons are on and the archive is caught up', async () => {
    const fake = fakeClient(emptyServer)
    const vouch = binding(fake)
    const events: unknown[] = []
    vouch.on('synced', (s) => events.push(s))
    const synced = vouch.synced()
    fake.xmpp.emit('online')
    await synced
    expect(events).toEqual([{ pages: 1, messages: 0 }])
    await vouch.synced() // caught up: at once
  })

  it("rejects SyncError 'failed' (with the cause) when an IQ of the session start fails", async () => {
    const socketGone = new Error('socket gone')
    const fake = fakeClient((s) => {
      if (s.name === 'iq') throw socketGone
    })
    const vouch = binding(fake)
    const errors: Error[] = []
    vouch.on('error', (e) => errors.push(e))
    const synced = vouch.synced()
    fake.xmpp.emit('online')
    const e = await rejection(synced)
    expect(e.reason).toBe('failed')
    expect(e.cause).toBe(socketGone)
    expect(errors).toEqual([socketGone])
  })

  it("rejects SyncError 'disconnected' when the connection drops before the catch-up finished", async () => {
    const fake = fakeClient() // the server never answers the Carbons IQ
    const vouch = binding(fake)
    const synced = vouch.synced()
    fake.xmpp.emit('online')
    fake.xmpp.emit('disconnect', { clean: false })
    expect((await rejection(synced)).reason).toBe('disconnected')
    vouch.close()
  })

  it("rejects SyncError 'closed' when the binding is closed while waiting", async () => {
    const vouch = binding(fakeClient())
    const synced = vouch.synced()
    vouch.close()
    expect((await rejection(synced)).reason).toBe('closed')
  })

  it("rejects SyncError 'timeout' after syncTimeoutMs, and per call after timeoutMs", async () => {
    const fake = fakeClient()
    const vouch = binding(fake, 30)
    fake.xmpp.emit('online')
    const started = Date.now()
    expect((await rejection(vouch.synced())).reason).toBe('timeout')
    expect((await rejection(vouch.synced({ timeoutMs: 10 }))).reason).toBe('timeout')
    expect(Date.now() - started).toBeLessThan(2000)
    vouch.close()
  })

  it('a rejection nobody awaits is not reported as unhandled (synced() is taken before connecting)', async () => {
    const fake = fakeClient()
    const vouch = binding(fake)
    const unhandled: unknown[] = []
    const onUnhandled = (r: unknown): void => {
      unhandled.push(r)
    }
    process.on('unhandledRejection', onUnhandled)
    try {
      void vouch.synced()
      fake.xmpp.emit('disconnect', { clean: false })
      await tick()
      await tick()
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
      vouch.close()
    }
  })

  it('the session start of a dropped connection does not settle the next session', async () => {
    const fake = fakeClient()
    const vouch = binding(fake)
    fake.xmpp.emit('online') // first session: its Carbons IQ is never answered
    fake.xmpp.emit('disconnect', { clean: false })
    const firstCarbons = fake.sent.find((s) => s.getChild('enable', NS_CARBONS) !== undefined)
    expect(firstCarbons).toBeDefined()
    const synced = vouch.synced()
    fake.xmpp.emit('online') // second session
    // the first session's IQ finally fails: nothing is reported, the second one still waits
    fake.receive(
      xml(
        'iq',
        { type: 'error', id: String(firstCarbons?.attrs.id) },
        xml(
          'error',
          { type: 'cancel' },
          xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }),
        ),
      ),
    )
    const second = fake.sent.filter((s) => s.getChild('enable', NS_CARBONS) !== undefined)[1]
    expect(second).toBeDefined()
    let settled = false
    synced.then(
      () => {
        settled = true
      },
      () => {
        settled = true
      },
    )
    await tick()
    expect(settled).toBe(false)
    // the second session completes
    fake.receive(xml('iq', { type: 'result', id: String(second?.attrs.id), to: `${alice}/r` }))
    await tick()
    const mam = fake.sent.find((s) => s.getChild('query', NS_MAM) !== undefined)
    fake.receive(
      xml(
        'iq',
        { type: 'result', id: String(mam?.attrs.id) },
        xml('fin', { xmlns: NS_MAM, complete: 'true' }),
      ),
    )
    await synced
    vouch.close()
  })
})

describe('stopClient', () => {
  it('rejects a pending IQ with ConnectionClosedError at once (no 30 s timer outlives the client)', async () => {
    const { xmpp, sent } = fakeClient() // never answers
    const pending = xmpp.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' })).then(
      () => undefined,
      (e: unknown) => e,
    )
    await tick()
    expect(sent.map((s) => s.name)).toEqual(['iq'])
    const started = Date.now()
    await stopClient(xmpp)
    expect(await pending).toBeInstanceOf(ConnectionClosedError)
    expect(Date.now() - started).toBeLessThan(1000)
  })
})
