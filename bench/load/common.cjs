'use strict'
// Shared helpers of the Node load generators: timing, latency histogram, markers, sockets.

const WebSocket = require('ws')

/** Milliseconds since the epoch with sub-millisecond resolution. */
const nowMs = () => performance.timeOrigin + performance.now()

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Latency histogram with 0.1 ms buckets up to 60 s (the last bucket collects the rest). */
class Histogram {
  constructor () {
    this.buckets = new Uint32Array(600001)
    this.count = 0
    this.max = 0
  }

  add (ms) {
    const i = Math.min(this.buckets.length - 1, Math.max(0, Math.round(ms * 10)))
    this.buckets[i]++
    this.count++
    if (ms > this.max) this.max = ms
  }

  percentile (p) {
    if (this.count === 0) return null
    const target = Math.ceil(this.count * p)
    let seen = 0
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]
      if (seen >= target) return i / 10
    }
    return this.max
  }

  summary () {
    return { count: this.count, p50: this.percentile(0.5), p95: this.percentile(0.95), p99: this.percentile(0.99), max: this.count ? this.max : null }
  }
}

/** CPU use of this process between two calls, as a percentage of one core. */
class CpuMeter {
  constructor () { this.reset() }
  reset () {
    this.usage = process.cpuUsage()
    this.t0 = nowMs()
  }

  percent () {
    const d = process.cpuUsage(this.usage)
    const wallMs = nowMs() - this.t0
    return wallMs > 0 ? Math.round(((d.user + d.system) / 1000 / wallMs) * 1000) / 10 : null
  }
}

/** A marker carried inside inserted text: \x01writer:seq:sentMs\x02 (ASCII, so UTF-8 keeps it whole). */
const marker = (writer, seq) => `\u0001${writer}:${seq}:${nowMs().toFixed(2)}\u0002`

/** Calls onMarker(writer, seq, sentMs) for every marker found in a raw binary frame. A frame
 * holds other 0x01 and 0x02 bytes too (lengths, ids), so each 0x02 is paired with the nearest
 * 0x01 before it and the text between must parse as three numbers. */
function scanMarkers (buf, onMarker) {
  let end = buf.indexOf(2)
  while (end !== -1) {
    const start = buf.lastIndexOf(1, end)
    if (start !== -1 && end - start <= 64) {
      const parts = buf.toString('latin1', start + 1, end).split(':')
      if (parts.length === 3) {
        const [w, seq, sent] = parts.map(Number)
        if (Number.isInteger(w) && Number.isInteger(seq) && Number.isFinite(sent)) onMarker(w, seq, sent)
      }
    }
    end = buf.indexOf(2, end + 1)
  }
}

/** y-protocols messageSync + syncStep1 with the empty state vector. */
const SYNC_STEP1_EMPTY = Buffer.from([0, 0, 1, 0])

/** Opens a raw socket; resolves when `ready(data)` says a received frame completes the handshake. */
function openSocket (url, ready, timeoutMs = 30000, onOpen = null) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('timeout')) }, timeoutMs)
    const onMessage = (data) => {
      if (ready(data)) {
        clearTimeout(timer)
        ws.off('message', onMessage)
        resolve(ws)
      }
    }
    ws.on('message', onMessage)
    ws.on('open', () => { if (onOpen) onOpen(ws) })
    ws.on('error', (err) => { clearTimeout(timer); reject(err) })
    ws.on('close', (code) => { clearTimeout(timer); reject(new Error(`closed ${code}`)) })
  })
}

/** Runs async factories `count` times, at most `batch` at a time; returns settled results. */
async function inBatches (count, batch, factory) {
  const out = []
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start)
    const part = await Promise.allSettled(Array.from({ length: n }, (_, k) => factory(start + k)))
    out.push(...part)
  }
  return out
}

function withQuery (url, params) {
  const q = new URLSearchParams(params || {}).toString()
  return q ? `${url}${url.includes('?') ? '&' : '?'}${q}` : url
}

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

/** Tells the harness that a measured phase starts or ends, so it samples the server then. */
const phase = (name) => process.stdout.write(`PHASE ${name}\n`)

/** Every writer types `rate` markers a second for `seconds` (into its `text`, counting `sent`),
 *  each on its own schedule, catching up when a timer tick comes late. */
function typeOnSchedule (writers, rate, seconds) {
  const perWriter = Math.floor(rate * seconds)
  const t0 = nowMs()
  return new Promise((resolve) => {
    const tickMs = Math.max(1, Math.min(20, 1000 / rate / 2))
    const timer = setInterval(() => {
      const elapsed = (nowMs() - t0) / 1000
      let done = true
      for (let w = 0; w < writers.length; w++) {
        const writer = writers[w]
        const due = Math.min(perWriter, Math.floor(elapsed * rate))
        while (writer.sent < due) {
          writer.text.insert(writer.text.length, marker(w, writer.sent))
          writer.sent++
        }
        if (writer.sent < perWriter) done = false
      }
      if (done) { clearInterval(timer); resolve() }
    }, tickMs)
  })
}

module.exports = { nowMs, sleep, Histogram, CpuMeter, marker, typeOnSchedule, scanMarkers, SYNC_STEP1_EMPTY, openSocket, inBatches, withQuery, emit, phase }
