// The official Yjs client's side of comment anchors, for tests/comments/test_live.py.
// Usage: node anchors.mjs '<json config>' with {url, doc, token, quote?, edits?, positions?};
// prints one JSON line: the relative positions around `quote` (base64, as the client's
// encodeRelativePosition makes them), where `positions` resolve in its text, and its text.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const cfg = JSON.parse(process.argv[2])
const doc = new Y.Doc()
const provider = new WebsocketProvider(`${cfg.url}/ws/yjs`, cfg.doc, doc, {
  WebSocketPolyfill: WebSocket, params: { token: cfg.token }, disableBc: true
})
const text = doc.getText('content')
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('sync timed out')), 10000)
  provider.on('sync', (ok) => { if (ok) { clearTimeout(timer); resolve() } })
})
const b64 = (bytes) => Buffer.from(bytes).toString('base64')
const result = {}
if (cfg.quote) {
  const start = text.toString().indexOf(cfg.quote)
  const end = start + cfg.quote.length
  result.yjs_from = b64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, start, 0)))
  result.yjs_to = b64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, end, -1)))
}
for (const edit of cfg.edits || []) {
  const at = text.toString().indexOf(edit.before)
  if (edit.insert) text.insert(at, edit.insert)
  if (edit.delete) text.delete(at, edit.delete)
}
if (cfg.positions) {
  const [from, to] = cfg.positions.map((p) => Y.createAbsolutePositionFromRelativePosition(
    Y.decodeRelativePosition(Buffer.from(p, 'base64')), doc).index)
  result.resolved = text.toString().slice(from, to)
}
// The server confirms what it received by echoing nothing to the sender; a second sync
// round trip tells us our updates were read before we leave.
const probe = new Y.Doc()
const second = new WebsocketProvider(`${cfg.url}/ws/yjs`, cfg.doc, probe, {
  WebSocketPolyfill: WebSocket, params: { token: cfg.token }, disableBc: true
})
const want = text.toString()
const deadline = Date.now() + 10000
while (probe.getText('content').toString() !== want && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20))
}
result.text = text.toString()
result.confirmed = probe.getText('content').toString() === want
second.destroy(); provider.destroy(); probe.destroy(); doc.destroy()
console.log(JSON.stringify(result))
process.exit(0)
