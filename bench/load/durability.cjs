'use strict'
// Durability lag seen from outside: one Yjs writer types markers while a poller reads the
// document over REST and records when each marker first shows up there. The send times are
// reported too, so the harness can match them with what it sees in the database.
// Usage: node durability.cjs '<json>' with {base, room, params, rate, duration, grace, pollMs,
// restUrl, token, rich}; with `rich` the markers are typed into a paragraph of the
// Y.XmlFragment('default') (as a Tiptap editor would) instead of Y.Text('content').

const WebSocket = require('ws')
const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const { nowMs, sleep, Histogram, marker, emit, phase } = require('./common.cjs')

const cfg = JSON.parse(process.argv[2])

async function main () {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(cfg.base, cfg.room, doc, { WebSocketPolyfill: WebSocket, params: cfg.params, disableBc: true })
  await new Promise((resolve) => provider.once('sync', resolve))
  let text = doc.getText('content')
  if (cfg.rich) {
    const paragraph = new Y.XmlElement('paragraph')
    text = new Y.XmlText()
    paragraph.insert(0, [text])
    doc.getXmlFragment('default').insert(0, [paragraph])
  }
  const sentAt = []
  const seenAt = []
  const hist = new Histogram()
  let polls = 0
  let pollErrors = 0
  let done = false

  const poller = (async () => {
    const headers = { Authorization: `Bearer ${cfg.token}` }
    while (!done) {
      const t = nowMs()
      try {
        const resp = await fetch(cfg.restUrl, { headers })
        const body = await resp.json()
        polls++
        const content = body.content || ''
        let i = content.indexOf('\u0001')
        while (i !== -1) {
          const end = content.indexOf('\u0002', i)
          if (end === -1) break
          const seq = Number(content.slice(i + 1, end).split(':')[1])
          if (seenAt[seq] === undefined && sentAt[seq] !== undefined) {
            seenAt[seq] = t
            hist.add(t - sentAt[seq])
          }
          i = content.indexOf('\u0001', end)
        }
      } catch (err) {
        pollErrors++
      }
      const wait = cfg.pollMs - (nowMs() - t)
      if (wait > 0) await sleep(wait)
    }
  })()

  phase('start')
  const total = Math.floor(cfg.rate * cfg.duration)
  const t0 = nowMs()
  for (let seq = 0; seq < total; seq++) {
    const wait = t0 + (seq * 1000) / cfg.rate - nowMs()
    if (wait > 0) await sleep(wait)
    sentAt[seq] = nowMs()
    text.insert(text.length, marker(0, seq))
  }
  const graceEnd = nowMs() + cfg.grace * 1000
  while (hist.count < total && nowMs() < graceEnd) await sleep(20)
  done = true
  await poller
  phase('end')
  provider.destroy()
  emit({
    sent: total,
    persisted: hist.count,
    latency_ms: hist.summary(),
    polls,
    poll_errors: pollErrors,
    sent_at_ms: sentAt
  })
  process.exit(0)
}

main().catch((err) => { emit({ error: String(err && err.stack ? err.stack : err) }); process.exit(1) })
