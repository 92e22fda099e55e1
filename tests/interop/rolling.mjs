// Writers type and readers watch one document through the official Yjs client while the
// servers behind the proxy restart one by one (tests/ops/test_rolling_restart.py, and the
// reconnect-gap benchmark). Usage: node rolling.mjs '<json config>'.
//
// Config: {url, doc, writers: [token], readers: [token], quitters: [token], interval_ms,
// quitter_edits}. Every line on stdout is JSON: {ready}, {typed: n} every 20 edits, {quit: i}
// when a quitter has typed its edits and left for good, and, after "stop" arrives on stdin,
// the result: what each writer typed, whether every reader holds all of it, the close codes
// the clients saw and every reconnect gap (ms from losing the server to being synced again).
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const cfg = JSON.parse(process.argv[2])
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const say = (value) => console.log(JSON.stringify(value))

const closeCodes = {}
const gaps = []

function connect (token, name) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`${cfg.url}/ws/yjs`, cfg.doc, doc, {
    WebSocketPolyfill: WebSocket,
    params: { token },
    disableBc: true
  })
  const client = { name, doc, provider, text: doc.getText('content'), lostAt: null }
  provider.on('connection-close', (event) => {
    if (event) closeCodes[event.code] = (closeCodes[event.code] || 0) + 1
  })
  provider.on('status', ({ status }) => {
    if (status === 'disconnected' && client.lostAt === null) client.lostAt = Date.now()
  })
  provider.on('sync', (isSynced) => {
    if (isSynced && client.lostAt !== null) {
      gaps.push(Date.now() - client.lostAt)
      client.lostAt = null
    }
  })
  return client
}

function synced (client) {
  if (client.provider.synced) return Promise.resolve()
  return new Promise((resolve) => {
    const onSync = (isSynced) => {
      if (isSynced) { client.provider.off('sync', onSync); resolve() }
    }
    client.provider.on('sync', onSync)
  })
}

async function until (predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) return false
    await sleep(20)
  }
  return true
}

const writers = cfg.writers.map((t, i) => connect(t, `w${i}`))
const readers = cfg.readers.map((t, i) => connect(t, `r${i}`))
const quitters = cfg.quitters.map((t, i) => connect(t, `q${i}`))
const everyone = [...writers, ...readers, ...quitters]
await Promise.all(everyone.map(synced))
say({ ready: true })

const typed = {}
let total = 0
let stopping = false

function type (client, n) {
  const marker = `[${client.name}:${n}]`
  client.text.insert(client.text.length, marker)
  typed[client.name] = n + 1
  total++
  if (total % 20 === 0) say({ typed: total })
}

// Quitters type their edits at once and leave for good, edits possibly still in flight.
quitters.forEach((q, i) => {
  for (let n = 0; n < cfg.quitter_edits; n++) type(q, n)
  q.provider.destroy()
  say({ quit: i })
})

const typing = writers.map(async (w) => {
  let n = 0
  while (!stopping) {
    type(w, n++)
    await sleep(cfg.interval_ms)
  }
})

process.stdin.setEncoding('utf8')
let input = ''
await new Promise((resolve) => {
  process.stdin.on('data', (chunk) => {
    input += chunk
    if (input.includes('stop')) resolve()
  })
})
stopping = true
await Promise.all(typing)

const markers = Object.entries(typed).flatMap(([name, count]) =>
  Array.from({ length: count }, (_, n) => `[${name}:${n}]`))
const holdsAll = (c) => markers.every((m) => c.text.toString().includes(m))
const complete = await until(() => [...writers, ...readers].every(holdsAll), 20000)
const missing = readers.map((r) => markers.filter((m) => !r.text.toString().includes(m)))
for (const c of [...writers, ...readers]) { c.provider.destroy(); c.doc.destroy() }
say({ typed, complete, missing, close_codes: closeCodes, gaps_ms: gaps })
process.exit(0)
