// Drives the official Yjs client (yjs + y-websocket) against a cowrite server for the interop
// tests. Usage: node yclient.mjs <scenario> '<json config>'; the last stdout line is the result.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function connect (cfg, token) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`${cfg.url}/ws/yjs`, cfg.doc, doc, {
    WebSocketPolyfill: WebSocket,
    params: { token },
    disableBc: true,
    maxBackoffTime: 200
  })
  return { doc, provider, text: doc.getText('content') }
}

function synced (client, timeoutMs = 10000) {
  if (client.provider.synced) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sync timed out')), timeoutMs)
    client.provider.on('sync', (isSynced) => {
      if (isSynced) { clearTimeout(timer); resolve() }
    })
  })
}

async function until (predicate, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) return false
    await sleep(20)
  }
  return true
}

function closeAll (clients) {
  for (const c of clients) { c.provider.destroy(); c.doc.destroy() }
}

const scenarios = {
  // Every client connects, syncs and reports its text.
  async read (cfg) {
    const c = connect(cfg, cfg.token)
    await synced(c)
    const text = c.text.toString()
    closeAll([c])
    return { text }
  },

  // Two clients open a new document at the same moment; both must sync and see each other.
  async join (cfg) {
    const clients = cfg.tokens.map((t) => connect(cfg, t))
    await Promise.all(clients.map((c) => synced(c)))
    clients.forEach((c, i) => c.text.insert(c.text.length, `<from-${i}>`))
    const converged = await until(() => clients.every((c) =>
      cfg.tokens.every((_, i) => c.text.toString().includes(`<from-${i}>`))))
    const texts = clients.map((c) => c.text.toString())
    closeAll(clients)
    return { converged, texts }
  },

  // Clients make random concurrent inserts and deletes, then must converge.
  async random (cfg) {
    const clients = cfg.tokens.map((t) => connect(cfg, t))
    await Promise.all(clients.map((c) => synced(c)))
    let seed = (cfg.seed || 1) >>> 0
    const rand = (n) => { // mulberry32
      seed = (seed + 0x6D2B79F5) >>> 0
      let t = seed
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) % n
    }
    await Promise.all(clients.map(async (c, i) => {
      for (let k = 0; k < cfg.edits; k++) {
        const len = c.text.length
        if (cfg.deletes !== false && len > 10 && rand(4) === 0) {
          c.text.delete(rand(len - 3), 1 + rand(3))
        } else {
          c.text.insert(rand(len + 1), `c${i}e${k};`)
        }
        await sleep(5 + rand(20))
      }
    }))
    const converged = await until(() =>
      clients.every((c) => c.text.toString() === clients[0].text.toString()))
    await sleep(200)
    const texts = clients.map((c) => c.text.toString())
    closeAll(clients)
    return { converged, texts }
  },

  // One client edits while disconnected; on reconnect both sides' edits merge.
  async offline (cfg) {
    const [a, b] = cfg.tokens.map((t) => connect(cfg, t))
    await Promise.all([synced(a), synced(b)])
    a.text.insert(0, 'shared;')
    await until(() => b.text.toString().includes('shared;'))
    a.provider.disconnect()
    a.text.insert(a.text.length, 'offline-A;')
    b.text.insert(0, 'online-B;')
    await sleep(300)
    const whileOffline = b.text.toString()
    a.provider.connect()
    const converged = await until(() =>
      a.text.toString() === b.text.toString() &&
      a.text.toString().includes('offline-A;') && a.text.toString().includes('online-B;'))
    const texts = [a.text.toString(), b.text.toString()]
    closeAll([a, b])
    return { converged, whileOffline, texts }
  },

  // Append numbered markers at a steady pace, logging when each was made (for the kill test).
  async typing (cfg) {
    const c = connect(cfg, cfg.token)
    await synced(c)
    console.log(JSON.stringify({ ready: true }))
    const end = Date.now() + cfg.duration_ms
    let i = 0
    while (Date.now() < end) {
      c.text.insert(c.text.length, `[${i}]`)
      console.log(JSON.stringify({ edit: i, at: Date.now() }))
      i++
      await sleep(cfg.interval_ms)
    }
    closeAll([c])
    return { edits: i }
  },

  // A viewer types; nobody else may ever see it.
  async viewer (cfg) {
    const editor = connect(cfg, cfg.editor)
    const viewer = connect(cfg, cfg.viewer)
    await Promise.all([synced(editor), synced(viewer)])
    editor.text.insert(0, 'editor-text;')
    await until(() => viewer.text.toString().includes('editor-text;'))
    viewer.text.insert(0, 'viewer-text;')
    await sleep(500)
    editor.text.insert(editor.text.length, 'editor-after;')
    await until(() => viewer.text.toString().includes('editor-after;'))
    const late = connect(cfg, cfg.editor)
    await synced(late)
    await sleep(200)
    const result = {
      editor: editor.text.toString(),
      viewer: viewer.text.toString(),
      late: late.text.toString()
    }
    closeAll([editor, viewer, late])
    return result
  }
}

const [scenario, config] = process.argv.slice(2)
const result = await scenarios[scenario](JSON.parse(config))
console.log(JSON.stringify(result))
process.exit(0)
