'use strict'
// Presence fan-out on cowrite's JSON /ws: clients join rooms and send cursor_move at `hz` each;
// the cursor carries (seq, send time) so receivers measure latency and count deliveries.
// Usage: node presence.cjs '<json>' with {urls, tokens, rooms, clients, hz, duration, grace}.

const WebSocket = require('ws')
const { monitorEventLoopDelay } = require('perf_hooks')
const { nowMs, sleep, Histogram, CpuMeter, inBatches, emit, phase } = require('./common.cjs')

const cfg = JSON.parse(process.argv[2])
const T0 = nowMs()

function connect (i) {
  // Clients of one room alternate between the servers (i % urls alone would put every member of a
  // room on the same server whenever the room count is a multiple of the server count).
  const server = Math.floor(i / cfg.rooms.length) % cfg.urls.length
  const url = `${cfg.urls[server]}?token=${encodeURIComponent(cfg.tokens[i % cfg.tokens.length])}`
  const room = cfg.rooms[i % cfg.rooms.length]
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const client = { i, server, ws, room, connectionId: null, joined: false, onEvent: null }
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('join timeout')) }, 30000)
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', batch: true })))
    ws.on('message', (data) => {
      const msg = JSON.parse(data)
      const events = msg.type === 'batch' ? msg.events : [msg]
      for (const ev of events) {
        if (ev.type === 'connected' && !client.connectionId) {
          client.connectionId = ev.connection_id
          ws.send(JSON.stringify({ type: 'join_document', document_id: room }))
        } else if (ev.type === 'presence_list' && !client.joined) {
          client.joined = true
          clearTimeout(timer)
          resolve(client)
        } else if (ev.type === 'error' && !client.joined) {
          clearTimeout(timer)
          reject(new Error(`error ${ev.code}`))
        } else if (client.onEvent) client.onEvent(ev)
      }
    })
    ws.on('error', (err) => { clearTimeout(timer); reject(err) })
    ws.on('close', (code) => { clearTimeout(timer); reject(new Error(`closed ${code}`)) })
  })
}

async function main () {
  const results = await inBatches(cfg.clients, 50, connect)
  const clients = results.filter((r) => r.status === 'fulfilled').map((r) => r.value)
  const failures = cfg.clients - clients.length
  const byConnection = new Map(clients.map((c) => [c.connectionId, c.i]))
  const serverOf = new Map(clients.map((c) => [c.i, c.server]))
  const roomSize = new Map()
  for (const c of clients) roomSize.set(c.room, (roomSize.get(c.room) || 0) + 1)
  const maxSeq = Math.ceil(cfg.hz * cfg.duration) + 4
  const hist = new Histogram()
  const crossHist = new Histogram() // sender and receiver on different server processes
  const sameHist = new Histogram()
  let delivered = 0
  let duplicates = 0
  let frames = 0 // WebSocket messages received while measuring (a batch frame counts once)
  let measuring = false
  let closedEarly = 0
  for (const c of clients) {
    const seen = new Map()
    c.ws.on('close', () => { if (measuring) closedEarly++ })
    c.ws.on('message', () => { if (measuring) frames++ })
    c.onEvent = (ev) => {
      if (!measuring || ev.type !== 'cursor_move' || !ev.cursor) return
      const sender = byConnection.get(ev.connection_id)
      const seq = ev.cursor.line
      if (sender === undefined || seq >= maxSeq) return
      let bits = seen.get(sender)
      if (!bits) { bits = new Uint8Array(maxSeq); seen.set(sender, bits) }
      if (bits[seq]) { duplicates++; return }
      bits[seq] = 1
      delivered++
      const latency = nowMs() - T0 - ev.cursor.column / 10
      hist.add(latency)
      if (serverOf.get(sender) !== c.server) crossHist.add(latency)
      else sameHist.add(latency)
    }
  }
  await sleep(500)

  phase('start')
  const cpu = new CpuMeter()
  // How late this process's own timers and reads run: when it is high, the latencies below are
  // partly the load generator's, not the server's.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 })
  loopDelay.enable()
  measuring = true
  let sent = 0
  let expected = 0
  const periodMs = 1000 / cfg.hz
  const perClient = Math.floor(cfg.hz * cfg.duration)
  await Promise.all(clients.map(async (c) => {
    await sleep(Math.random() * periodMs)
    const start = nowMs()
    for (let seq = 0; seq < perClient; seq++) {
      const wait = start + seq * periodMs - nowMs()
      if (wait > 0) await sleep(wait)
      if (c.ws.readyState !== 1) return
      const column = Math.round((nowMs() - T0) * 10)
      c.ws.send(JSON.stringify({ type: 'cursor_move', document_id: c.room, cursor: { line: seq, column } }))
      sent++
      expected += roomSize.get(c.room) - 1
    }
  }))
  // CPU is taken over the sending window (the grace below is mostly idle and would dilute it).
  const clientCpu = cpu.percent()
  phase('end')
  loopDelay.disable()
  const graceEnd = nowMs() + cfg.grace * 1000
  while (delivered < expected && nowMs() < graceEnd) await sleep(50)
  measuring = false
  for (const c of clients) c.ws.terminate()
  emit({
    clients: cfg.clients,
    rooms: cfg.rooms.length,
    hz: cfg.hz,
    sent,
    expected,
    delivered,
    duplicates,
    frames_received: frames,
    delivered_share: expected ? delivered / expected : null,
    latency_ms: hist.summary(),
    cross_process_latency_ms: crossHist.summary(),
    same_process_latency_ms: sameHist.summary(),
    join_failures: failures,
    closed_early: closedEarly,
    client_cpu_pct: clientCpu,
    load_loop_delay_ms: {
      p50: loopDelay.percentile(50) / 1e6,
      p99: loopDelay.percentile(99) / 1e6,
      max: loopDelay.max / 1e6
    }
  })
  process.exit(0)
}

main().catch((err) => { emit({ error: String(err && err.stack ? err.stack : err) }); process.exit(1) })
