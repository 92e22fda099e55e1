'use strict'
// The floor for the calls workload: a bare signalling relay on `ws` (no accounts, no documents,
// no checks), speaking just enough of cowrite's /ws call messages for calls.cjs. What it measures
// is what any relay gets on this machine under the same load generator.
// Usage: node relay.cjs PORT

const http = require('http')
const crypto = require('crypto')
const WebSocket = require('ws')

const port = Number(process.argv[2])
const sockets = new Map()
const calls = new Map() // document id → connection ids in its call
const server = http.createServer((req, res) => { res.writeHead(200); res.end('ok') })
const wss = new WebSocket.Server({ server, path: '/ws', perMessageDeflate: false })
wss.on('connection', (ws) => {
  const id = crypto.randomUUID()
  sockets.set(id, ws)
  ws.send(JSON.stringify({ type: 'connected', connection_id: id }))
  ws.on('message', (data) => {
    const msg = JSON.parse(data)
    if (msg.type === 'call_join') {
      const call = calls.get(msg.document_id) ?? new Set()
      calls.set(msg.document_id, call)
      call.add(id)
      const participants = [...call].map((connectionId) => ({ connection_id: connectionId }))
      ws.send(JSON.stringify({ type: 'call_state', document_id: msg.document_id, participants }))
      const joined = JSON.stringify({ type: 'call_joined', document_id: msg.document_id, connection_id: id })
      for (const other of call) if (other !== id) sockets.get(other)?.send(joined)
    } else if (msg.type === 'rtc_signal') {
      const target = sockets.get(msg.to)
      if (target) target.send(JSON.stringify({ type: 'rtc_signal', document_id: msg.document_id, from: id, signal: msg.signal }))
    }
  })
  ws.on('close', () => sockets.delete(id))
})
server.listen(port, '127.0.0.1')
