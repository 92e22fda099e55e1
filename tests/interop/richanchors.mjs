// The official Yjs client's side of comment anchors in a rich document, for
// tests/comments/test_rich.py. Usage: node richanchors.mjs '<json config>' with
// {url, doc, token, quote?, edits?, positions?}; prints one JSON line: the relative positions
// around `quote` in the text node that holds it (as a Tiptap client makes them), the text
// `positions` enclose in its document, and each text node's text.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const cfg = JSON.parse(process.argv[2])
const connect = (doc) => new WebsocketProvider(`${cfg.url}/ws/yjs`, cfg.doc, doc, {
  WebSocketPolyfill: WebSocket, params: { token: cfg.token }, disableBc: true
})
const doc = new Y.Doc()
const provider = connect(doc)
const fragment = doc.getXmlFragment('default')
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('sync timed out')), 10000)
  provider.on('sync', (ok) => { if (ok) { clearTimeout(timer); resolve() } })
})

/** The text nodes in document order. */
function texts (node, found = []) {
  for (const child of node.toArray()) {
    if (child instanceof Y.XmlText) found.push(child)
    else if (child instanceof Y.XmlElement) texts(child, found)
  }
  return found
}
const plain = (text) => text.toDelta().map((op) => typeof op.insert === 'string' ? op.insert : '').join('')
const holding = (words) => texts(fragment).find((text) => plain(text).includes(words))

const b64 = (bytes) => Buffer.from(bytes).toString('base64')
const result = {}
if (cfg.quote) {
  const text = holding(cfg.quote)
  const start = plain(text).indexOf(cfg.quote)
  const end = start + cfg.quote.length
  result.yjs_from = b64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, start, 0)))
  result.yjs_to = b64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, end, -1)))
}
for (const edit of cfg.edits || []) {
  if (edit.paragraph) { // a new first paragraph
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText(edit.paragraph)])
    fragment.insert(0, [paragraph])
    continue
  }
  const text = holding(edit.before)
  const at = plain(text).indexOf(edit.before)
  if (edit.insert) text.insert(at, edit.insert)
  if (edit.delete) text.delete(at, edit.delete)
}
if (cfg.positions) {
  const [from, to] = cfg.positions.map((p) => Y.createAbsolutePositionFromRelativePosition(
    Y.decodeRelativePosition(Buffer.from(p, 'base64')), doc))
  result.same_node = from.type === to.type
  result.resolved = plain(from.type).slice(from.index, to.index)
}
// A second client proves the server holds every edit before this one leaves.
const probe = new Y.Doc()
const second = connect(probe)
const want = JSON.stringify(fragment.toJSON())
const deadline = Date.now() + 10000
while (JSON.stringify(probe.getXmlFragment('default').toJSON()) !== want && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20))
}
result.texts = texts(fragment).map(plain)
result.confirmed = JSON.stringify(probe.getXmlFragment('default').toJSON()) === want
second.destroy(); provider.destroy(); probe.destroy(); doc.destroy()
console.log(JSON.stringify(result))
process.exit(0)
