/**
 * The web demo's page: three endpoints as panels (Alice's laptop and phone, Bob), each with its own
 * IndexedDB store and OMEMO 2 device, and the trust matrix of all of them, updated on every event.
 * The XMPP server comes from the query string: `?service=ws://127.0.0.1:PORT/xmpp-websocket`
 * (`pnpm demo --web` prints the whole address). Every control carries a `data-role` (and each
 * panel a `data-endpoint`) for the end-to-end test.
 */
import { defaultCryptoProvider, NS_OMEMO2 } from '@vouch/backend-omemo'
import type { BareJid, KeyId } from '@vouch/tm-core'
import { parseBareJid } from '@vouch/tm-core'
import { parseTrustMessageUri, trustMessageUriQr } from '@vouch/uri'
import type { VouchXmpp } from '@vouch/xmpp'
import { type Endpoint, startEndpoint } from './endpoint.ts'

const params = new URLSearchParams(location.search)
const service = params.get('service') ?? `ws://${location.hostname}:5280/xmpp-websocket`
const domain = params.get('domain') ?? 'localhost'
const password = params.get('password') ?? 'demo-password'
/** databases are per server run, so a fresh server never meets an old device */
const run = params.get('run') ?? service

type Name = 'A1' | 'A2' | 'B1'
interface PanelSpec {
  readonly name: Name
  readonly title: string
  readonly user: 'alice' | 'bob'
  readonly resource: string
  readonly register: boolean
}
const PANELS: readonly PanelSpec[] = [
  { name: 'A1', title: 'Alice’s laptop', user: 'alice', resource: 'laptop', register: true },
  { name: 'A2', title: 'Alice’s phone', user: 'alice', resource: 'phone', register: false },
  { name: 'B1', title: 'Bob', user: 'bob', resource: 'phone', register: true },
]
const jidOf = (user: string): BareJid => parseBareJid(`${user}@${domain}`)

const endpoints = new Map<Name, Endpoint>()

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  e.append(...children)
  return e
}

const short = (key: KeyId): string => key.slice(0, 8)

// ---- the trust matrix ----

let matrixPending = false
function refreshMatrix(): void {
  if (matrixPending) return
  matrixPending = true
  setTimeout(() => {
    matrixPending = false
    void renderMatrix()
  }, 50)
}

async function renderMatrix(): Promise<void> {
  const table = document.getElementById('matrix') as HTMLTableElement
  const head = el('tr', {}, el('th', {}, 'endpoint ↓ sees device →'))
  for (const p of PANELS) {
    const ep = endpoints.get(p.name)
    head.append(el('th', {}, `${p.name} ${p.title}`, el('br'), ep === undefined ? '–' : short(ep.ownKey)))
  }
  const rows: HTMLTableRowElement[] = [head]
  for (const viewer of PANELS) {
    const row = el('tr', {}, el('th', {}, `${viewer.name} ${viewer.title}`))
    for (const of of PANELS) {
      const v = endpoints.get(viewer.name)
      const o = endpoints.get(of.name)
      const cell = el('td', { 'data-viewer': viewer.name, 'data-key': of.name })
      if (viewer.name === of.name) {
        cell.className = 'self'
        cell.textContent = 'own device'
      } else if (v === undefined || o === undefined) cell.textContent = '–'
      else {
        const level = await v.store.getTrustLevel(NS_OMEMO2, o.jid, o.ownKey)
        cell.className = level
        cell.textContent = level
      }
      row.append(cell)
    }
    rows.push(row)
  }
  table.replaceChildren(...rows)
}

// ---- the panels ----

function panel(spec: PanelSpec): HTMLElement {
  const status = el('div', { class: 'status', 'data-role': 'status' }, 'offline')
  const connect = el(
    'button',
    { 'data-role': 'connect' },
    spec.register ? `Register ${spec.user} and connect` : `Log in as ${spec.user}`,
  )
  const qr = el('div', { class: 'qr', 'data-role': 'qr' })
  const uri = el('code', { class: 'uri', 'data-role': 'uri' })
  const scanInput = el('textarea', {
    'data-role': 'scan-input',
    placeholder: 'paste a Trust Message URI (xmpp:…?trust-message;encryption=…;trust=…)',
  })
  const scan = el('button', { 'data-role': 'scan', disabled: '' }, 'Apply scanned URI')
  const camera = el('button', { 'data-role': 'camera', disabled: '' }, 'Scan with camera')
  const refresh = el('button', { 'data-role': 'refresh', disabled: '' }, 'Refresh keys')
  const distrustWhich = el('select', { 'data-role': 'distrust-target' })
  for (const other of PANELS)
    if (other.name !== spec.name)
      distrustWhich.append(el('option', { value: other.name }, `${other.name} ${other.title}`))
  const distrust = el('button', { 'data-role': 'distrust', disabled: '' }, 'Distrust (lost or stolen)')
  const chatTo = el('select', { 'data-role': 'chat-to' })
  for (const user of ['alice', 'bob']) chatTo.append(el('option', { value: user }, user))
  chatTo.value = spec.user === 'alice' ? 'bob' : 'alice'
  const chatText = el('input', { type: 'text', 'data-role': 'chat-text', placeholder: 'message' })
  const send = el('button', { 'data-role': 'chat-send', disabled: '' }, 'Send (OMEMO 2)')
  const chatLog = el('ul', { class: 'chat-log', 'data-role': 'chat-log' })
  const log = el('ul', { class: 'log', 'data-role': 'log' })
  const note = (text: string): void => {
    log.prepend(el('li', {}, `${new Date().toLocaleTimeString()} ${text}`))
  }

  connect.addEventListener('click', async () => {
    connect.disabled = true
    status.textContent = 'connecting…'
    try {
      const listen = (vouch: VouchXmpp): void => {
        vouch.on('trust-changed', (c) => {
          note(`trust: ${c.key.owner} ${short(c.key.keyId)} ${c.from} → ${c.to}`)
          refreshMatrix()
        })
        vouch.on('keys-changed', () => refreshMatrix())
        vouch.on('trust-message', (m) => note(`trust message from ${m.from}: ${m.outcome}`))
        vouch.on('trust-message-sent', (m) =>
          note(`trust message sent to ${m.to} (${m.recipients.length} devices)`),
        )
        vouch.on('rejected', (r) => note(`rejected from ${r.from}: ${r.rule}`))
        vouch.on('message', (m) => {
          chatLog.append(
            el(
              'li',
              { 'data-role': 'chat-message' },
              `${m.direction === 'incoming' ? m.peer : 'me'}: ${m.body} `,
              el('span', { class: `level ${m.trustLevel}`, 'data-role': 'chat-level' }, m.trustLevel),
            ),
          )
        })
      }
      const ep = await startEndpoint(
        {
          service,
          domain,
          user: spec.user,
          resource: spec.resource,
          password,
          register: spec.register,
          database: `vouch-web:${run}:${spec.user}/${spec.resource}`,
        },
        listen,
      )
      endpoints.set(spec.name, ep)
      uri.textContent = ep.uri
      qr.innerHTML = await trustMessageUriQr(ep.uri, { format: 'svg' })
      // "online" last: the page is ready for the user (and the end-to-end test) once it says so
      status.className = 'status online'
      status.textContent = `online as ${ep.jid}/${ep.resource} — OMEMO 2 device ${ep.deviceId}, key ${short(ep.ownKey)}…`
      for (const b of [scan, refresh, send, distrust]) b.disabled = false
      camera.disabled = !('BarcodeDetector' in globalThis && navigator.mediaDevices !== undefined)
      camera.title = camera.disabled ? 'no BarcodeDetector or camera in this browser: paste instead' : ''
      note('connected; device published')
      await refreshAll()
    } catch (e) {
      status.className = 'status error'
      status.textContent = `failed: ${(e as Error).message}`
      connect.disabled = false
    }
  })

  refresh.addEventListener('click', () => void refreshAll())

  distrust.addEventListener('click', async () => {
    const ep = endpoints.get(spec.name)
    const target = endpoints.get(distrustWhich.value as Name)
    if (ep === undefined || target === undefined) return
    try {
      // ATM-S5 / ATM-S6: distrusted here, then trust messages tell the other endpoints
      const result = await ep.vouch.distrust(NS_OMEMO2, target.jid, [target.ownKey])
      note(`distrusted ${distrustWhich.value}: ${result.changes.length} trust change(s) applied`)
      refreshMatrix()
    } catch (e) {
      note(`distrust failed: ${(e as Error).name}: ${(e as Error).message}`)
    }
  })

  scan.addEventListener('click', async () => {
    const ep = endpoints.get(spec.name)
    if (ep === undefined) return
    try {
      const parsed = parseTrustMessageUri(scanInput.value.trim())
      const result = await ep.vouch.applyUri(parsed, {
        uriSource: 'scan',
        confirm: async (s) =>
          globalThis.confirm(
            `${spec.title}: authenticate ${s.authenticate.length} and distrust ${s.distrust.length} key(s) of ${s.jid}?`,
          ),
      })
      const changes = result.changes.length
      note(`scanned ${parsed.jid}: ${changes} trust change(s) applied`)
      scanInput.value = ''
      refreshMatrix()
    } catch (e) {
      note(`scan failed: ${(e as Error).name}: ${(e as Error).message}`)
    }
  })

  camera.addEventListener('click', async () => {
    // where the browser has a camera and the Shape Detection API (e.g. Chrome on Android, macOS)
    const Detector = (
      globalThis as {
        BarcodeDetector?: new (o: object) => { detect(v: HTMLVideoElement): Promise<{ rawValue: string }[]> }
      }
    ).BarcodeDetector
    if (Detector === undefined) return
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } })
    const video = el('video', { playsinline: '' })
    video.srcObject = stream
    await video.play()
    const detector = new Detector({ formats: ['qr_code'] })
    const deadline = Date.now() + 30_000
    try {
      while (Date.now() < deadline) {
        const [code] = await detector.detect(video)
        if (code !== undefined) {
          scanInput.value = code.rawValue
          scan.click()
          return
        }
        await new Promise((r) => setTimeout(r, 200))
      }
      note('no QR code seen within 30 s')
    } finally {
      for (const t of stream.getTracks()) t.stop()
    }
  })

  const sendNow = async (): Promise<void> => {
    const ep = endpoints.get(spec.name)
    const text = chatText.value.trim()
    if (ep === undefined || text === '') return
    try {
      const sent = await ep.vouch.sendChat(jidOf(chatTo.value), text)
      chatLog.append(
        el(
          'li',
          { 'data-role': 'chat-sent' },
          `me → ${chatTo.value}: ${text} (${sent.recipients.length} devices)`,
        ),
      )
      chatText.value = ''
    } catch (e) {
      note(`send failed: ${(e as Error).name}: ${(e as Error).message}`)
    }
  }
  send.addEventListener('click', () => void sendNow())
  chatText.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void sendNow()
  })

  return el(
    'article',
    { class: 'panel', 'data-endpoint': spec.name },
    el('h2', {}, `${spec.name} · ${spec.title}`),
    status,
    connect,
    el('h3', {}, 'My Trust Message URI (show this QR code)'),
    qr,
    uri,
    el('h3', {}, 'Scan another device'),
    scanInput,
    el('div', { class: 'row' }, scan, camera, refresh),
    el('div', { class: 'row' }, distrustWhich, distrust),
    el('h3', {}, 'Encrypted chat'),
    el('div', { class: 'row' }, chatTo, chatText, send),
    chatLog,
    el('h3', {}, 'Events'),
    log,
  )
}

/** Every online endpoint fetches both accounts' devices (PEP), as a client does on login. */
async function refreshAll(): Promise<void> {
  for (const ep of endpoints.values())
    for (const user of ['alice', 'bob']) await ep.vouch.refreshKeys(jidOf(user)).catch(() => undefined)
  refreshMatrix()
}

const provider = defaultCryptoProvider().name
document.body.dataset.cryptoProvider = provider
document.getElementById('server')!.textContent =
  `XMPP over WebSocket: ${service} (domain ${domain}) · OMEMO 2 crypto provider: ${provider} · stores: IndexedDB`
document.getElementById('panels')!.append(...PANELS.map(panel))
void renderMatrix()
