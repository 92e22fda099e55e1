'use strict'
// Single-author trace throughput: one official Yjs client pushes every transaction of a trace as
// fast as the server takes them (TCP back-pressure); done when a fresh client reads the final text.
// Usage: node single.cjs '<json>' with {base, room, params, file, limit, timeout}.

const WebSocket = require('ws')
const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const { nowMs, sleep, CpuMeter, withQuery, emit, phase } = require('./common.cjs')
const { loadTrace, applyPatches, sequentialResult, fetchServerText } = require('./trace.cjs')

const cfg = JSON.parse(process.argv[2])

async function main () {
  const trace = loadTrace(cfg.file, cfg.limit)
  const expected = trace.endContent ?? sequentialResult(trace)
  const edits = trace.txns.reduce((n, t) => n + t.patches.length, 0)
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(cfg.base, cfg.room, doc, { WebSocketPolyfill: WebSocket, params: cfg.params, disableBc: true })
  await new Promise((resolve) => provider.once('sync', resolve))
  // A server may close a client that sends too fast (e.g. 1008, rate); the provider then
  // reconnects and resyncs. Count those closes so the table shows them.
  const closes = {}
  const onClose = (event) => {
    const code = event ? event.code : 'no close frame'
    closes[code] = (closes[code] || 0) + 1
  }
  provider.on('connection-close', onClose)
  const text = doc.getText('content')
  const url = withQuery(`${cfg.base}/${cfg.room}`, cfg.params)

  phase('start')
  const cpu = new CpuMeter()
  const t0 = nowMs()
  for (let i = 0; i < trace.txns.length; i++) {
    applyPatches(doc, text, trace.txns[i].patches)
    if (i % 500 === 499) {
      await new Promise((resolve) => setImmediate(resolve))
      while (provider.ws && provider.ws.bufferedAmount > (1 << 22)) await sleep(1)
    }
  }
  while (provider.ws && provider.ws.bufferedAmount > 0) await sleep(1)
  const sentSeconds = (nowMs() - t0) / 1000
  let serverText = ''
  const deadline = t0 + cfg.timeout * 1000
  while (nowMs() < deadline) {
    serverText = await fetchServerText(url)
    if (serverText.length === expected.length) break
    await sleep(100)
  }
  const seconds = (nowMs() - t0) / 1000
  const clientCpu = cpu.percent()
  phase('end')
  const disconnects = provider.wsconnected ? 0 : 1
  provider.off('connection-close', onClose)
  provider.destroy()
  emit({
    edits,
    txns: trace.txns.length,
    sent_seconds: sentSeconds,
    seconds,
    edits_per_s: edits / seconds,
    client_matches: text.toString() === expected,
    server_matches: serverText === expected,
    disconnected: disconnects,
    closes,
    client_cpu_pct: clientCpu,
    expected_length: expected.length
  })
  process.exit(0)
}

main().catch((err) => { emit({ error: String(err && err.stack ? err.stack : err) }); process.exit(1) })
