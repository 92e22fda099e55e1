'use strict'
// Co-editing capacity load: W official Yjs writers type markers at R edits/s each into
// Y.Text('content') (or, with `rich`, each into its own paragraph of Y.XmlFragment('default'),
// laid out as y-prosemirror does); L light listeners (raw sockets) scan the frames they receive
// for the markers.
// Usage: node coedit.cjs '<json>' with {base, room, params, writers, rate, listeners, duration, rich?,
// grace, firstAlone, writerBases?, listenerBases?}. Prints one JSON line.

const WebSocket = require('ws')
const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const {
  nowMs, sleep, Histogram, CpuMeter, typeOnSchedule, scanMarkers, SYNC_STEP1_EMPTY, openSocket,
  inBatches, withQuery, emit, phase
} = require('./common.cjs')

const cfg = JSON.parse(process.argv[2])

function startWriter (base, params) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(base, cfg.room, doc, {
    WebSocketPolyfill: WebSocket, params, disableBc: true, maxBackoffTime: 1000
  })
  const synced = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('writer sync timeout')), 30000)
    provider.once('sync', () => { clearTimeout(timer); resolve() })
  })
  const writer = { doc, provider, text: doc.getText('content'), synced, sent: 0 }
  if (cfg.rich) {
    // A paragraph of its own (an XmlElement holding one XmlText), added once synced.
    writer.synced = synced.then(() => {
      const paragraph = new Y.XmlElement('paragraph')
      writer.text = new Y.XmlText()
      paragraph.insert(0, [writer.text])
      doc.getXmlFragment('default').push([paragraph])
    })
  }
  return writer
}

async function main () {
  const W = cfg.writers
  const L = cfg.listeners
  const maxSeq = Math.ceil(cfg.rate * cfg.duration) + 16
  const seen = new Uint8Array(L * W * maxSeq)
  const hist = new Histogram()
  // With several server processes: deliveries whose writer and listener use different ones.
  const crossHist = new Histogram()
  const sameHist = new Histogram()
  const writerBaseCount = cfg.writerBases ? cfg.writerBases.length : 1
  let delivered = 0
  let duplicates = 0
  let typing = false

  // Writers: the first one alone creates the room (pycrdt-websocket loses simultaneous joiners).
  const writers = []
  const writerBase = (i) => (cfg.writerBases ? cfg.writerBases[i % cfg.writerBases.length] : cfg.base)
  writers.push(startWriter(writerBase(0), cfg.params))
  await writers[0].synced
  if (cfg.firstAlone) await sleep(300)
  for (let i = 1; i < W; i++) writers.push(startWriter(writerBase(i), cfg.params))
  const writerResults = await Promise.allSettled(writers.map((w) => w.synced))
  const writerFailures = writerResults.filter((r) => r.status === 'rejected').length

  // Listeners: raw sockets that ask for the whole document once, then only read.
  const listenerBases = cfg.listenerBases || [cfg.base]
  const urlFor = (i) => withQuery(`${listenerBases[i % listenerBases.length]}/${cfg.room}`, cfg.params)
  const isStep2 = (data) => data.length > 1 && data[0] === 0 && data[1] === 1
  const results = await inBatches(L, cfg.connectBatch || 50, async (i) => {
    const ws = await openSocket(urlFor(i), isStep2, 30000, (s) => s.send(SYNC_STEP1_EMPTY))
    ws.on('message', (data) => {
      if (!typing) return
      const t = nowMs()
      scanMarkers(data, (w, seq, sent) => {
        if (w >= W || seq >= maxSeq) return
        const k = (i * W + w) * maxSeq + seq
        if (seen[k]) { duplicates++; return }
        seen[k] = 1
        delivered++
        hist.add(t - sent)
        if (w % writerBaseCount !== i % listenerBases.length) crossHist.add(t - sent)
        else sameHist.add(t - sent)
      })
    })
    ws.on('error', () => {})
    return ws
  })
  const listeners = results.filter((r) => r.status === 'fulfilled').map((r) => r.value)
  const listenerFailures = L - listeners.length
  await sleep(500)

  // Typing: each writer keeps its own schedule, catching up if a tick comes late.
  phase('start')
  const cpu = new CpuMeter()
  typing = true
  const t0 = nowMs()
  await typeOnSchedule(writers, cfg.rate, cfg.duration)
  const typingSeconds = (nowMs() - t0) / 1000
  const sent = writers.reduce((a, w) => a + w.sent, 0)
  const expected = sent * listeners.length
  const graceEnd = nowMs() + cfg.grace * 1000
  while (delivered < expected && nowMs() < graceEnd) await sleep(50)
  const clientCpu = cpu.percent()
  phase('end')
  typing = false

  for (const ws of listeners) ws.terminate()
  for (const w of writers) { w.provider.destroy(); w.doc.destroy() }
  emit({
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
    latency_ms: hist.summary(),
    cross_process_latency_ms: crossHist.summary(),
    same_process_latency_ms: sameHist.summary(),
    writer_failures: writerFailures,
    listener_failures: listenerFailures,
    client_cpu_pct: clientCpu
  })
  process.exit(0)
}

main().catch((err) => { emit({ error: String(err && err.stack ? err.stack : err) }); process.exit(1) })
