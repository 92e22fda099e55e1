'use strict'
// Presence fan-out on cowrite's JSON /ws: clients join rooms and send cursor_move at `hz` each;
// the cursor carries (seq, send time) so receivers measure latency and count deliveries.
// Usage: node presence.cjs '<json>' with {urls, tokens, rooms, clients, hz, duration, grace}.
//
// This process must cost little per message, or its own delays show up as the server's latency:
// the sockets are rawws.cjs (one callback per message, no events), one timer sends for every
// client that is due, and batches of cursor moves are scanned for the fields counted, not parsed.

const { monitorEventLoopDelay } = require('perf_hooks')
const { RawWebSocket } = require('./rawws.cjs')
const { nowMs, sleep, Histogram, CpuMeter, inBatches, emit, phase } = require('./common.cjs')

const cfg = JSON.parse(process.argv[2])
const T0 = nowMs()
const HELLO = JSON.stringify({ type: 'hello', batch: true })

function connect (i) {
  // Clients of one room alternate between the servers (i % urls alone would put every member of a
  // room on the same server whenever the room count is a multiple of the server count).
  const server = Math.floor(i / cfg.rooms.length) % cfg.urls.length
  const url = `${cfg.urls[server]}?token=${encodeURIComponent(cfg.tokens[i % cfg.tokens.length])}`
  const room = cfg.rooms[i % cfg.rooms.length]
  return new Promise((resolve, reject) => {
    // After the join, `receive` takes every message and `onClose` hears the close.
    const client = { i, server, ws: null, room, connectionId: null, joined: false, receive: null, onClose: null }
    const joining = (buf, start, end) => {
      const msg = JSON.parse(buf.toString('utf8', start, end))
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
        }
      }
    }
    const ws = new RawWebSocket(url, {
      open: () => ws.send(HELLO),
      message: (buf, start, end) => {
        if (client.receive) client.receive(buf, start, end)
        else if (!client.joined) joining(buf, start, end)
      },
      error: (err) => { clearTimeout(timer); reject(err) },
      close: (code) => {
        clearTimeout(timer)
        reject(new Error(`closed ${code}`))
        if (client.onClose) client.onClose()
      }
    })
    client.ws = ws
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('join timeout')) }, 30000)
  })
}

// The server writes every event with orjson, keys in a fixed order, and a batch as
// {"type":"batch","events":[e1,e2,...]}; a cursor move is {"type":"cursor_move","document_id":..,
// "user_id":..,"connection_id":"<id>","full_name":..,"cursor":{"line":N,"column":M}}.
// Inside a JSON string every quote is escaped, so none of these patterns (each with unescaped
// quotes around a key) can come from a string value such as full_name. The scan runs on the
// message read as latin1 (one char per byte, so the ASCII patterns and ids read the same whatever
// UTF-8 full_name holds): string searches are much cheaper than Buffer ones.
const BATCH = '{"type":"batch","events":['
const TYPE = '{"type":"'
const MOVE = '{"type":"cursor_move","'
const CONNECTION = '"connection_id":"'
const CURSOR = '"cursor":{"line":'
const COLUMN = ',"column":'

/** The unsigned decimal at `pos` (at most 15 digits) into num[0] and its end into num[1]; false
 * when there is none. */
function readUint (text, pos, num) {
  let value = 0
  let p = pos
  for (; p < text.length; p++) {
    const d = text.charCodeAt(p) - 48
    if (d < 0 || d > 9) break
    value = value * 10 + d
  }
  num[0] = value
  num[1] = p
  return p > pos && p - pos < 16
}

/**
 * The cursor moves of a message made only of them (a batch, or one event), as
 * (sender connection id, line, column) triples in `out`; returns how many. Returns -1 for any
 * other message, or any layout not exactly as above: the caller then parses it, and nothing is
 * counted twice since nothing is counted here.
 */
function scanMoves (text, out) {
  let pos = 0
  let last = text.length // where the last event must end
  if (text.startsWith(BATCH)) {
    pos = BATCH.length
    last -= 2
    if (text.charCodeAt(last) !== 0x5D || text.charCodeAt(last + 1) !== 0x7D) return -1 // ]}
  }
  const num = scanMoves.num
  let n = 0
  for (;;) {
    if (!text.startsWith(MOVE, pos)) return -1
    // This event ends where the next object with a "type" key starts (or at the message's end).
    let next = text.indexOf(TYPE, pos + MOVE.length)
    if (next === -1) next = last
    const conn = text.indexOf(CONNECTION, pos + MOVE.length)
    if (conn === -1 || conn >= next) return -1
    const idStart = conn + CONNECTION.length
    const idEnd = text.indexOf('"', idStart)
    if (idEnd === -1 || idEnd >= next) return -1
    const cursor = text.indexOf(CURSOR, idEnd)
    if (cursor === -1 || cursor >= next) return -1
    if (!readUint(text, cursor + CURSOR.length, num)) return -1
    const line = num[0]
    if (!text.startsWith(COLUMN, num[1])) return -1
    if (!readUint(text, num[1] + COLUMN.length, num)) return -1
    let p = num[1]
    if (text.charCodeAt(p) !== 0x7D || text.charCodeAt(p + 1) !== 0x7D) return -1 // }}: cursor, event
    p += 2
    out[n * 3] = text.slice(idStart, idEnd)
    out[n * 3 + 1] = line
    out[n * 3 + 2] = num[0]
    n++
    if (p === last) return n
    if (text.charCodeAt(p) !== 0x2C || p + 1 !== next) return -1 // a comma, then the next event
    pos = next
  }
}
scanMoves.num = new Float64Array(2)

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
  const found = [] // scanMoves' output, reused by every message
  for (const c of clients) {
    const seen = new Map()
    const count = (sender, seq, column, now) => {
      if (sender === undefined || seq >= maxSeq) return
      let bits = seen.get(sender)
      if (!bits) { bits = new Uint8Array(maxSeq); seen.set(sender, bits) }
      if (bits[seq]) { duplicates++; return }
      bits[seq] = 1
      delivered++
      const latency = now - T0 - column / 10
      hist.add(latency)
      if (serverOf.get(sender) !== c.server) crossHist.add(latency)
      else sameHist.add(latency)
    }
    c.onClose = () => { if (measuring) closedEarly++ }
    c.receive = (buf, start, end) => {
      if (!measuring) return
      frames++
      const now = nowMs() // once per message: its events arrived together
      const text = buf.toString('latin1', start, end)
      const n = scanMoves(text, found)
      if (n >= 0) {
        for (let k = 0; k < n * 3; k += 3) count(byConnection.get(found[k]), found[k + 1], found[k + 2], now)
        return
      }
      // Anything else (or any surprise in the layout) takes the full parse.
      const msg = JSON.parse(buf.toString('utf8', start, end))
      for (const ev of msg.type === 'batch' ? msg.events : [msg]) {
        if (ev.type !== 'cursor_move' || !ev.cursor) continue
        count(byConnection.get(ev.connection_id), ev.cursor.line, ev.cursor.column, now)
      }
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
  // One timer for all clients instead of one per client: each client keeps a random phase in
  // [0, period) and sends at phase + seq * period, so walking the clients in phase order round
  // after round visits the sends in time order. Late sends go out at once, as they come due.
  const order = clients.map((c) => ({
    c,
    phase: Math.random() * periodMs,
    prefix: `{"type":"cursor_move","document_id":${JSON.stringify(c.room)},"cursor":{"line":`
  })).sort((a, b) => a.phase - b.phase)
  await new Promise((resolve) => {
    const start = nowMs()
    let round = 0
    let k = 0
    const tick = () => {
      let now = nowMs()
      while (round < perClient && order.length) {
        const slot = order[k]
        const due = start + slot.phase + round * periodMs
        if (due > now) {
          now = nowMs()
          if (due > now) { setTimeout(tick, due - now); return }
        }
        const c = slot.c
        if (c.ws.readyState === RawWebSocket.OPEN) {
          // The bytes JSON.stringify would make of the message; the send time read at the send.
          const column = Math.round((nowMs() - T0) * 10)
          c.ws.send(`${slot.prefix}${round},"column":${column}}}`)
          sent++
          expected += roomSize.get(c.room) - 1
        }
        if (++k === order.length) { k = 0; round++ }
      }
      resolve()
    }
    tick()
  })
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
