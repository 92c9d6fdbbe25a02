// The Converse.js 14 side of the Vouch interop test: a plugin (registered with
// converse.plugins.add and listed in whitelisted_plugins) that hands the test its API, and
// converse.initialize with the settings from the page's query string. It does nothing a user
// could not do in the UI: open a chat, send, read, compare fingerprints, mark a device trusted.
/* global converse */
const q = new URLSearchParams(location.search)

const harness = {
  ready: false,
  errors: [],
  api: undefined,
  _converse: undefined,

  /** Waits for login and OMEMO, returns our OMEMO device id. */
  async deviceId() {
    await harness.api.waitUntil('OMEMOInitialized')
    return harness.api.omemo.getDeviceID()
  },

  /** Adds `jid` to the roster (a subscription request), as "Add a contact" does. */
  async addContact(jid, name) {
    await harness.api.waitUntil('rosterContactsFetched')
    await harness.api.contacts.add({ jid, name }, true, false)
  },

  /** The roster subscription state of `jid` (`none`, `to`, `from`, `both`), or null. */
  async subscription(jid) {
    const contact = await harness.api.contacts.get(jid)
    return contact?.get('subscription') ?? null
  },

  /** Devices Converse knows for `jid` in `version` (OMEMO 2 by default), with their fingerprints. */
  async devices(jid, version = 'urn:xmpp:omemo:2') {
    const list = await harness.api.omemo.devicelists.get(jid, true, version)
    await list.fetchDevices?.()
    const out = []
    for (const d of list.devices.models) {
      let fingerprint
      try {
        const bundle = await d.getBundle()
        const raw = Uint8Array.from(atob(bundle.identity_key), (c) => c.charCodeAt(0))
        const bytes = d.isV2?.() ? raw : raw.slice(1)
        fingerprint = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
      } catch {
        fingerprint = undefined
      }
      out.push({ id: String(d.get('id')), trusted: d.get('trusted'), active: d.get('active'), fingerprint })
    }
    return out
  },

  /** Marks a device trusted (1) or untrusted (-1), as the fingerprint toggle in the contact details does. */
  async setTrust(jid, deviceId, trusted, version = 'urn:xmpp:omemo:2') {
    const list = await harness.api.omemo.devicelists.get(jid, true, version)
    const d = list.devices.get(String(deviceId)) ?? list.devices.get(Number(deviceId))
    if (!d) throw new Error(`no device ${deviceId} of ${jid}`)
    d.save('trusted', trusted)
  },

  /** Opens the chat with `jid` (OMEMO on, as omemo_default) and sends `body`. */
  async send(jid, body) {
    const chat = await harness.api.chats.open(jid, {}, true)
    if (!chat.get('omemo_active')) chat.save({ omemo_active: true })
    await chat.sendMessage({ body })
  },

  /**
   * Opens the chat with `jid` (OMEMO on), as a click on the contact does, and waits until Converse
   * has handled the archive (MAM) query it makes for a newly opened chat. Converse runs that query
   * when a chat is created; opened by an incoming message instead, the query returns the copies of
   * messages still being decrypted live, which Converse can store before the live ones (see
   * tooling/converse-legacy's README).
   */
  async openChat(jid) {
    const existed = (await harness.api.chats.get(jid)) != null
    const archived = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        harness.api.listen.not('MAMResult', on)
        reject(new Error(`Converse made no archive query for ${jid} within 15 s`))
      }, 15_000)
      function on(data) {
        if (data?.chatbox?.get('jid') !== jid) return
        clearTimeout(timer)
        harness.api.listen.not('MAMResult', on)
        resolve()
      }
      harness.api.listen.on('MAMResult', on)
    })
    const chat = await harness.api.chats.open(jid, {}, true)
    if (!chat.get('omemo_active')) chat.save({ omemo_active: true })
    if (!existed) await archived
  },

  /** The messages of the chat with `jid`: body, direction, encryption, errors. */
  async messages(jid) {
    const chat = await harness.api.chats.get(jid)
    const models = chat?.messages?.models ?? []
    return models.map((m) => ({
      body: m.get('plaintext') ?? m.get('body') ?? null,
      sender: m.get('sender'),
      encrypted: m.get('is_encrypted') === true,
      encryption: m.get('encryption_namespace') ?? null,
      error: m.get('error') ?? m.get('error_text') ?? null,
      type: m.get('type'),
    }))
  },
}
window.harness = harness

converse.plugins.add('vouch-harness', {
  initialize() {
    harness._converse = this._converse
    harness.api = this._converse.api
    harness.api.listen.on('connected', () => {
      harness.ready = true
    })
  },
})

window.addEventListener('error', (e) => harness.errors.push(String(e.message)))

converse.initialize({
  assets_path: '/converse/',
  websocket_url: q.get('ws'),
  jid: q.get('jid'),
  password: q.get('password'),
  auto_login: true,
  discover_connection_methods: false,
  omemo_default: true,
  auto_subscribe: true,
  allow_non_roster_messaging: true,
  view_mode: 'fullscreen',
  i18n: 'en',
  play_sounds: false,
  show_desktop_notifications: false,
  loglevel: q.get('loglevel') ?? 'warn',
  whitelisted_plugins: ['vouch-harness'],
})
