// Drives the official rich-text stack (Tiptap's schema, y-prosemirror, yjs, y-websocket) against
// a cowrite server for the rich-document tests. Usage: node richclient.mjs <scenario> '<json>';
// the last stdout line is the result.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { getSchema } from '@tiptap/core'
import StarterKit from '@tiptap/starter-kit'
import Image from '@tiptap/extension-image'
import { TaskList, TaskItem } from '@tiptap/extension-list'
import { Node } from '@tiptap/pm/model'
import { prosemirrorJSONToYXmlFragment, yXmlFragmentToProseMirrorRootNode } from 'y-prosemirror'

// The extensions a Tiptap editor of cowrite's rich documents is built with.
const schema = getSchema([StarterKit, Image, TaskList, TaskItem])

function connect (cfg, doc, token) {
  const ydoc = new Y.Doc()
  const provider = new WebsocketProvider(`${cfg.url}/ws/yjs`, doc, ydoc, {
    WebSocketPolyfill: WebSocket,
    params: { token },
    disableBc: true,
    maxBackoffTime: 200
  })
  return { ydoc, provider, fragment: ydoc.getXmlFragment('default') }
}

function synced (client, timeoutMs = 15000) {
  if (client.provider.synced) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sync timed out')), timeoutMs)
    client.provider.on('sync', (isSynced) => {
      if (isSynced) { clearTimeout(timer); resolve() }
    })
  })
}

// Resolves on the first change of the fragment for which `predicate` holds (or at once).
function when (client, predicate, timeoutMs = 15000) {
  if (predicate()) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => { client.ydoc.off('update', check); resolve(false) }, timeoutMs)
    function check () {
      if (predicate()) { clearTimeout(timer); client.ydoc.off('update', check); resolve(true) }
    }
    client.ydoc.on('update', check)
  })
}

// What a Tiptap editor bound to this fragment shows, as `editor.getJSON()` reports it.
const editorJSON = (fragment) => yXmlFragmentToProseMirrorRootNode(fragment, schema).toJSON()
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)

function close (clients) {
  for (const c of clients) { c.provider.destroy(); c.ydoc.destroy() }
}

const scenarios = {
  // Each document of the corpus is typed in by the Tiptap stack; a second client proves the
  // server holds it. Returns what the editor reports for each.
  async write (cfg) {
    const results = []
    for (const { doc, json } of cfg.docs) {
      const writer = connect(cfg, doc, cfg.token)
      await synced(writer)
      const expected = Node.fromJSON(schema, json).toJSON()
      prosemirrorJSONToYXmlFragment(schema, json, writer.fragment)
      const reader = connect(cfg, doc, cfg.token)
      await synced(reader)
      const arrived = await when(reader, () => same(editorJSON(reader.fragment), expected))
      close([writer, reader])
      results.push({ doc, expected, arrived })
    }
    return { results }
  },

  // What the Tiptap stack reads from documents the server wrote.
  async read (cfg) {
    const results = []
    for (const doc of cfg.docs) {
      const client = connect(cfg, doc, cfg.token)
      await synced(client)
      results.push({ doc, json: editorJSON(client.fragment) })
      close([client])
    }
    return { results }
  },

  // The ProseMirror JSON the editor reports for each given document (no server involved).
  async normalize (cfg) {
    return { docs: cfg.docs.map((json) => Node.fromJSON(schema, json).toJSON()) }
  },

  // Types into the first paragraph, a character at a time, while REST writes change another
  // block; the first paragraph must keep its Yjs identity, its text and a cursor inside it.
  async typing (cfg) {
    const client = connect(cfg, cfg.doc, cfg.token)
    await synced(client)
    const paragraph = client.fragment.get(0)
    const text = paragraph.get(0)
    const cursor = Y.createRelativePositionFromTypeIndex(text, 3)
    console.log(JSON.stringify({ ready: true }))
    for (let i = 0; i < cfg.chars; i++) {
      text.insert(text.length, String(i % 10))
      await new Promise((resolve) => setTimeout(resolve, cfg.interval_ms))
    }
    const done = await when(client, () =>
      JSON.stringify(editorJSON(client.fragment)).includes(cfg.wait_for))
    const position = Y.createAbsolutePositionFromRelativePosition(cursor, client.ydoc)
    const result = {
      done,
      json: editorJSON(client.fragment),
      same_paragraph: client.fragment.get(0) === paragraph && !paragraph._item.deleted,
      cursor_in_paragraph: position !== null && position.type === text,
      cursor_index: position && position.index
    }
    close([client])
    return result
  },

  // Writes to the root of the other format: the server must close for good (4400-4499), the
  // stock client must stop reconnecting, and the other client must never see the change.
  async wrongroot (cfg) {
    const witness = connect(cfg, cfg.doc, cfg.token)
    const offender = connect(cfg, cfg.doc, cfg.token)
    await Promise.all([synced(witness), synced(offender)])
    let connects = 0
    offender.provider.on('status', ({ status }) => { if (status === 'connected') connects++ })
    const closed = new Promise((resolve) => offender.provider.on('closed', resolve))
    if (cfg.root === 'text') {
      offender.ydoc.getText('content').insert(0, 'plain text into a rich document')
    } else {
      const paragraph = new Y.XmlElement('paragraph')
      paragraph.insert(0, [new Y.XmlText('a paragraph into a Markdown document')])
      offender.ydoc.getXmlFragment('default').insert(0, [paragraph])
    }
    const event = await closed
    // A marker written after the offence reaches the witness: anything the offender sent
    // before it would have arrived first.
    const marker = connect(cfg, cfg.doc, cfg.token)
    await synced(marker)
    if (cfg.root === 'text') {
      const p = new Y.XmlElement('paragraph')
      p.insert(0, [new Y.XmlText('marker')])
      marker.fragment.insert(marker.fragment.length, [p])
    } else {
      marker.ydoc.getText('content').insert(0, 'marker;')
    }
    await when(witness, () => witness.fragment.toString().includes('marker') ||
      witness.ydoc.getText('content').toString().includes('marker'))
    const result = {
      code: event.code,
      reason: event.reason,
      should_connect: offender.provider.shouldConnect,
      connects,
      witness_text: witness.ydoc.getText('content').toString(),
      witness_fragment: witness.fragment.toString()
    }
    close([witness, offender, marker])
    return result
  }
}

const [scenario, config] = process.argv.slice(2)
const result = await scenarios[scenario](JSON.parse(config))
console.log(JSON.stringify(result))
process.exit(0)
