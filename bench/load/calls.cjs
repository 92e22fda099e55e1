'use strict'
// Call signalling on cowrite's JSON /ws: `calls` documents, `size` connections in each call (the
// members alternate between the servers). Every pair negotiates as browsers do: one side sends an
// offer, the other answers, then each side trickles `candidates` ICE candidates to the other, one
// every `trickleMs`; offers start spread over `spreadMs`, so all calls negotiate at once. Each
// signal carries its send time; its latency is the time until the addressed connection reads it.
// Usage: node calls.cjs '<json>' with {urls, tokens, documents, size, candidates, trickleMs,
// spreadMs, sdpBytes, grace}.

const { monitorEventLoopDelay } = require('perf_hooks')
const { RawWebSocket } = require('./rawws.cjs')
const { nowMs, sleep, Histogram, CpuMeter, inBatches, emit, phase } = require('./common.cjs')

const cfg = JSON.parse(process.argv[2])
const SDP = 'v=0\r\na=x-bench:' + 'x'.repeat(Math.max(0, cfg.sdpBytes - 16)) + '\r\n'

function connect (index) {
  const call = Math.floor(index / cfg.size)
  const seat = index % cfg.size
  const server = seat % cfg.urls.length
  const documentId = cfg.documents[call]
  const url = `${cfg.urls[server]}?token=${encodeURIComponent(cfg.tokens[seat % cfg.tokens.length])}`
  return new Promise((resolve, reject) => {
    // `known`: the participants this connection has heard of (call_state, then call_joined), as
    // a browser would: it offers only to peers it knows.
    const member = { index, call, server, documentId, ws: null, connectionId: null, known: new Set(), receive: null }
    let ready = false
    const ws = new RawWebSocket(url, {
      open: () => {},
      message: (buf, start, end) => {
        if (ready && member.receive) { member.receive(buf, start, end); return }
        const msg = JSON.parse(buf.toString('utf8', start, end))
        const events = msg.type === 'batch' ? msg.events : [msg]
        for (const ev of events) {
          if (ev.type === 'call_joined') {
            member.known.add(ev.connection_id)
          } else if (ev.type === 'connected') {
            member.connectionId = ev.connection_id
            ws.send(JSON.stringify({ type: 'join_document', document_id: documentId }))
            ws.send(JSON.stringify({ type: 'call_join', document_id: documentId, media: { audio: true, video: true } }))
          } else if (ev.type === 'call_state') {
            for (const p of ev.participants) if (p.connection_id !== member.connectionId) member.known.add(p.connection_id)
            ready = true
            clearTimeout(timer)
            resolve(member)
          } else if (ev.type === 'error') {
            clearTimeout(timer)
            reject(new Error(`error ${ev.code}: ${ev.message}`))
          }
        }
      },
      error: (err) => { clearTimeout(timer); reject(err) },
      close: (code) => { clearTimeout(timer); if (!ready) reject(new Error(`closed ${code}`)); else member.closed = code }
    })
    member.ws = ws
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('join timeout')) }, 30000)
  })
}

async function main () {
  const total = cfg.documents.length * cfg.size
  const settled = await inBatches(total, 50, connect)
  const failed = settled.filter((s) => s.status === 'rejected')
  if (failed.length) throw new Error(`${failed.length} joins failed: ${failed[0].reason}`)
  const members = settled.map((s) => s.value)
  const byId = new Map(members.map((m) => [m.connectionId, m]))
  // Everyone has heard of everyone in their call (what crosses processes has crossed).
  const waitUntil = nowMs() + 30000
  while (members.some((m) => m.known.size < cfg.size - 1) && nowMs() < waitUntil) await sleep(20)

  const hist = new Histogram()
  const same = new Histogram()
  const cross = new Histogram()
  let errors = 0
  let firstError = null
  let delivered = 0
  let sent = 0
  const pairs = cfg.size * (cfg.size - 1) / 2
  const expected = cfg.documents.length * pairs * (2 + 2 * cfg.candidates)

  const send = (from, to, signal) => {
    signal.t = nowMs()
    from.ws.send(JSON.stringify({ type: 'rtc_signal', document_id: from.documentId, to: to.connectionId, signal }))
    sent++
  }
  const trickle = (from, to) => {
    let n = 0
    const next = () => {
      if (n >= cfg.candidates || from.ws.readyState !== RawWebSocket.OPEN) return
      send(from, to, { type: 'candidate', candidate: { candidate: `candidate:${n} 1 udp ${2130706431 - n} 127.0.0.1 ${50000 + n} typ host`, sdpMid: '0', sdpMLineIndex: 0 } })
      n++
      setTimeout(next, cfg.trickleMs)
    }
    next()
  }
  for (const member of members) {
    member.receive = (buf, start, end) => {
      const now = nowMs()
      const msg = JSON.parse(buf.toString('utf8', start, end))
      const events = msg.type === 'batch' ? msg.events : [msg]
      for (const ev of events) {
        if (ev.type === 'error') { errors++; firstError ??= ev; continue }
        if (ev.type !== 'rtc_signal') continue
        const latency = now - ev.signal.t
        const sender = byId.get(ev.from)
        hist.add(latency)
        if (sender && sender.server === member.server) same.add(latency)
        else cross.add(latency)
        delivered++
        if (!sender) continue
        if (ev.signal.type === 'offer') {
          send(member, sender, { type: 'answer', sdp: SDP })
          trickle(member, sender)
        } else if (ev.signal.type === 'answer') {
          trickle(member, sender)
        }
      }
    }
  }

  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const cpu = new CpuMeter()
  phase('start')
  const started = nowMs()
  for (let call = 0; call < cfg.documents.length; call++) {
    const seats = members.slice(call * cfg.size, (call + 1) * cfg.size)
    for (let i = 0; i < seats.length; i++) {
      for (let j = i + 1; j < seats.length; j++) {
        setTimeout(() => send(seats[i], seats[j], { type: 'offer', sdp: SDP }), Math.random() * cfg.spreadMs)
      }
    }
  }
  const deadline = started + cfg.spreadMs + cfg.candidates * cfg.trickleMs * 2 + cfg.grace * 1000
  while (delivered < expected && nowMs() < deadline) await sleep(20)
  const seconds = (nowMs() - started) / 1000
  const clientCpu = cpu.percent()
  phase('end')
  loopDelay.disable()
  for (const m of members) m.ws.terminate()
  emit({
    calls: cfg.documents.length,
    size: cfg.size,
    sent,
    expected,
    delivered,
    errors,
    first_error: firstError,
    seconds,
    latency_ms: hist.summary(),
    same_process_latency_ms: same.summary(),
    cross_process_latency_ms: cross.summary(),
    client_cpu_pct: clientCpu,
    load_loop_delay_ms: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 }
  })
  process.exit(0)
}

main().catch((err) => { emit({ error: String(err && err.stack ? err.stack : err) }); process.exit(1) })
