'use strict'
// Fan-out load: official Yjs writers type markers into one or more documents, and many raw
// listeners per document only read. Each listener speaks the server's own framing:
//   y-websocket: plain y-protocols messages (sync step 1 with an empty state vector first);
//   hocuspocus: every message prefixed with the document name (a var-string), an Auth message
//   (type 2, a token) first, then the same sync step 1.
// Usage: node fanout.cjs '<json>' with {base, docs: [name...], params, framing, token,
// writersPerDoc, rate, listenersPerDoc, duration, grace}. Prints one JSON line: latency
// percentiles, loss, duplicates, and this process's CPU.

const WebSocket = require('ws')
const Y = require('yjs')
const { RawWebSocket } = require('./rawws.cjs')
const {
  nowMs, sleep, Histogram, CpuMeter, typeOnSchedule, scanMarkers, SYNC_STEP1_EMPTY, inBatches, withQuery,
  emit, phase
} = require('./common.cjs')

const cfg = JSON.parse(process.argv[2])
const HOCUS = cfg.framing === 'hocuspocus'

/** lib0 var-uint and var-string encodings (the prefix of a Hocuspocus message). */
function varUint (n) {
  const out = []
  while (n > 0x7f) { out.push(0x80 | (n & 0x7f)); n >>>= 7 }
  out.push(n)
  return Buffer.from(out)
}
const varString = (s) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([varUint(b.length), b]) }

function openingFrames (doc) {
  if (!HOCUS) return [SYNC_STEP1_EMPTY]
  const name = varString(doc)
  // Auth (2), token message (0), the token; then sync (0) step 1 (0) with an empty state vector.
  return [
    Buffer.concat([name, varUint(2), varUint(0), varString(cfg.token || 'bench')]),
    Buffer.concat([name, SYNC_STEP1_EMPTY])
  ]
}

/** Where the y-protocols message starts in a frame (after the document name, for Hocuspocus). */
function bodyStart (buf, start) {
  if (!HOCUS) return start
  let len = 0; let shift = 0; let pos = start
  for (;;) { const b = buf[pos++]; len |= (b & 0x7f) << shift; if (b < 0x80) break; shift += 7 }
  return pos + len
}

function startWriter (doc) {
  const ydoc = new Y.Doc()
  let provider
  const synced = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('writer sync timeout')), 30000)
    const done = () => { clearTimeout(timer); resolve() }
    if (HOCUS) {
      const { HocuspocusProvider } = require('@hocuspocus/provider')
      provider = new HocuspocusProvider({
        url: cfg.base, name: doc, document: ydoc, token: cfg.token || 'bench', WebSocketPolyfill: WebSocket
      })
      provider.on('synced', done)
    } else {
      const { WebsocketProvider } = require('y-websocket')
      provider = new WebsocketProvider(cfg.base, doc, ydoc, {
        WebSocketPolyfill: WebSocket, params: cfg.params, disableBc: true, maxBackoffTime: 1000
      })
      provider.once('sync', done)
    }
  })
  return { ydoc, provider, text: ydoc.getText('content'), synced, sent: 0 }
}

function openListener (doc, onFrame) {
  return new Promise((resolve, reject) => {
    const url = HOCUS ? cfg.base : withQuery(`${cfg.base}/${doc}`, cfg.params)
    let ready = false
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('listener timeout')) }, 30000)
    const ws = new RawWebSocket(url, {
      open () { for (const frame of openingFrames(doc)) ws.sendBinary(frame) },
      message (buf, start, end) {
        if (!ready) {
          const at = bodyStart(buf, start)
          if (end - at > 1 && buf[at] === 0 && buf[at + 1] === 1) {
            ready = true
            clearTimeout(timer)
            resolve(ws)
          }
          return
        }
        onFrame(buf, start, end)
      },
      close (code) { clearTimeout(timer); if (!ready) reject(new Error(`closed ${code}`)); else ws.closedCode = code },
      error () {}
    })
  })
}

async function main () {
  const docs = cfg.docs
  const W = cfg.writersPerDoc * docs.length
  const L = cfg.listenersPerDoc * docs.length
  const maxSeq = Math.ceil(cfg.rate * cfg.duration) + 16
  const seen = new Uint8Array(L * W * maxSeq)
  const hist = new Histogram()
  let delivered = 0
  let duplicates = 0
  let typing = false

  // Writers: the first of each document alone, then the rest.
  const writers = []
  for (let d = 0; d < docs.length; d++) {
    const first = startWriter(docs[d])
    first.doc = d
    writers.push(first)
    await first.synced
  }
  for (let d = 0; d < docs.length; d++) {
    for (let k = 1; k < cfg.writersPerDoc; k++) {
      const w = startWriter(docs[d])
      w.doc = d
      writers.push(w)
    }
  }
  const writerResults = await Promise.allSettled(writers.map((w) => w.synced))
  const writerFailures = writerResults.filter((r) => r.status === 'rejected').length
  const writersOf = docs.map((_, d) => writers.map((w, i) => (w.doc === d ? i : -1)).filter((i) => i >= 0))

  const results = await inBatches(L, cfg.connectBatch || 50, async (i) => {
    const d = i % docs.length
    const mine = new Set(writersOf[d])
    const listener = await openListener(docs[d], (buf, start, end) => {
      if (!typing) return
      const t = nowMs()
      scanMarkers(buf.subarray(start, end), (w, seq, sent) => {
        if (w >= W || seq >= maxSeq || !mine.has(w)) return
        const k = (i * W + w) * maxSeq + seq
        if (seen[k]) { duplicates++; return }
        seen[k] = 1
        delivered++
        hist.add(t - sent)
      })
    })
    listener.doc = d
    return listener
  })
  const listeners = results.filter((r) => r.status === 'fulfilled').map((r) => r.value)
  const listenerFailures = L - listeners.length
  const perDoc = docs.map((_, d) => listeners.filter((l) => l.doc === d).length)
  await sleep(500)

  phase('start')
  const cpu = new CpuMeter()
  typing = true
  const t0 = nowMs()
  await typeOnSchedule(writers, cfg.rate, cfg.duration)
  const typingSeconds = (nowMs() - t0) / 1000
  const sent = writers.reduce((a, w) => a + w.sent, 0)
  const expected = writers.reduce((a, w) => a + w.sent * perDoc[w.doc], 0)
  const graceEnd = nowMs() + cfg.grace * 1000
  while (delivered < expected && nowMs() < graceEnd) await sleep(50)
  const clientCpu = cpu.percent()
  phase('end')
  typing = false
  const closedEarly = listeners.filter((l) => l.closedCode !== undefined).length

  for (const ws of listeners) ws.terminate()
  for (const w of writers) { w.provider.destroy(); w.ydoc.destroy() }
  const summary = hist.summary()
  emit({
    docs: docs.length,
    writers: W,
    rate: cfg.rate,
    duration: cfg.duration,
    listeners: L,
    sent,
    achieved_rate: Math.round((sent / W / typingSeconds) * 10) / 10,
    expected,
    delivered,
    duplicates,
    loss: expected > 0 ? 1 - delivered / expected : null,
    latency_ms: { ...summary, p999: hist.percentile(0.999) },
    writer_failures: writerFailures,
    listener_failures: listenerFailures,
    listeners_closed: closedEarly,
    client_cpu_pct: clientCpu
  })
  process.exit(0)
}

main().catch((err) => { emit({ error: String(err && err.stack ? err.stack : err) }); process.exit(1) })
