// A quick capacity probe (not a test): W official Yjs clients type R edits/s each into one
// document while L light listeners (raw sockets that send sync step 1 and scan frames for
// timestamp markers) stand for the rest of the room. Prints deliveries/s and latency.
// Usage: node load.mjs '{"url":"ws://127.0.0.1:7001","doc":"<id>","token":"...","W":10,"R":20,"L":100,"seconds":10}'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const cfg = JSON.parse(process.argv[2])
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const latencies = []
let deliveries = 0
let measuring = false
const SYNC_STEP1_EMPTY = Buffer.from([0, 0, 1, 0])
const marker = /~(\d{13})\./g

const listeners = []
let listenersSynced = 0
for (let i = 0; i < cfg.L; i++) {
  const ws = new WebSocket(`${cfg.url}/ws/yjs/${cfg.doc}?token=${cfg.token}`, { perMessageDeflate: false })
  ws.on('open', () => ws.send(SYNC_STEP1_EMPTY))
  let synced = false
  ws.on('message', (data) => {
    if (!synced) { // the answer to our sync step 1 holds the document so far: not a delivery
      if (data[0] === 0 && data[1] === 1) { synced = true; listenersSynced++ }
      return
    }
    if (!measuring) return
    const now = Date.now()
    const text = data.toString('latin1')
    for (const match of text.matchAll(marker)) {
      deliveries++
      latencies.push(now - Number(match[1]))
    }
  })
  listeners.push(ws)
}
const writers = []
for (let i = 0; i < cfg.W; i++) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`${cfg.url}/ws/yjs`, cfg.doc, doc,
    { WebSocketPolyfill: WebSocket, params: { token: cfg.token }, disableBc: true })
  writers.push({ doc, provider, text: doc.getText('content') })
}
await Promise.all(writers.map((w) => new Promise((resolve) => {
  if (w.provider.synced) resolve(); else w.provider.on('sync', (s) => s && resolve())
})))
while (listenersSynced < cfg.L) await sleep(50)
await sleep(500)
measuring = true
const started = Date.now()
let sent = 0
const period = 1000 / cfg.R
const timers = writers.map((w, i) => setInterval(() => {
  if (Date.now() - started >= cfg.seconds * 1000) return
  // Short documents keep the writers' own CPU down: trim what is far behind.
  if (w.text.length > 4000 && i === 0) w.text.delete(0, 2000)
  w.text.insert(w.text.length, `~${Date.now()}.`)
  sent++
}, period))
await sleep(cfg.seconds * 1000)
timers.forEach(clearInterval)
await sleep(1500)
measuring = false
const cpu = process.cpuUsage()
latencies.sort((a, b) => a - b)
const pct = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null
const expected = sent * cfg.L
console.log(JSON.stringify({
  W: cfg.W, R: cfg.R, L: cfg.L, seconds: cfg.seconds,
  edits: sent,
  deliveries,
  expected,
  lost: expected - deliveries,
  deliveries_per_s: Math.round(deliveries / cfg.seconds),
  p50_ms: pct(0.5),
  p99_ms: pct(0.99),
  max_ms: latencies.length ? latencies[latencies.length - 1] : null,
  loadgen_cpu_s: Math.round((cpu.user + cpu.system) / 1e4) / 100
}))
for (const w of writers) { w.provider.destroy() }
for (const ws of listeners) ws.terminate()
process.exit(0)
