'use strict'
// Editing traces: loading, expected results, and reading a server's whole document.

const fs = require('fs')
const zlib = require('zlib')
const Y = require('yjs')
const decoding = require('lib0/decoding')
const { SYNC_STEP1_EMPTY, openSocket } = require('./common.cjs')

function loadTrace (file, limit) {
  const trace = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString())
  if (limit && limit < trace.txns.length) {
    trace.txns = trace.txns.slice(0, limit)
    trace.endContent = null
  }
  return trace
}

/** Applies [pos, deleted, inserted] patches to a Y.Text in one transaction. */
function applyPatches (doc, text, patches) {
  doc.transact(() => {
    for (const [pos, del, ins] of patches) {
      if (del > 0) text.delete(pos, del)
      if (ins) text.insert(pos, ins)
    }
  })
}

/** The text after a sequential trace's transactions (ASCII traces: code points = UTF-16 units). */
function sequentialResult (trace) {
  let parts = trace.startContent || ''
  for (const txn of trace.txns) {
    for (const [pos, del, ins] of txn.patches) parts = parts.slice(0, pos) + ins + parts.slice(pos + del)
  }
  return parts
}

/** Opens a fresh raw connection, asks for the whole document and returns its text. */
async function fetchServerText (url) {
  let step2 = null
  const ws = await openSocket(url, (data) => {
    if (data.length > 1 && data[0] === 0 && data[1] === 1) { step2 = data; return true }
    return false
  }, 60000, (s) => s.send(SYNC_STEP1_EMPTY))
  ws.terminate()
  const decoder = decoding.createDecoder(new Uint8Array(step2.buffer, step2.byteOffset, step2.length))
  decoding.readVarUint(decoder)
  decoding.readVarUint(decoder)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, decoding.readVarUint8Array(decoder))
  const text = doc.getText('content').toString()
  doc.destroy()
  return text
}

module.exports = { loadTrace, applyPatches, sequentialResult, fetchServerText }
