'use strict'
// A minimal RFC 6455 client on `net`, for load generators that must cost little per message:
// every socket reads into one shared buffer (net's `onread`: no stream events and no allocation
// per read), and each message is handed to one callback as a range of that buffer, valid only
// during the call. Client frames are masked with the all-zero key (valid framing, and the payload
// needs no XOR); no extensions are asked for, so there is no per-message deflate. On a protocol
// error the connection is dropped rather than closed with a code: the caller only needs to know.
//
//   const ws = new RawWebSocket(url, { open (), message (buf, start, end, opcode), close (code), error (err) })
//   ws.send(text); ws.sendBinary(buffer); ws.close(code); ws.terminate(); ws.readyState: 0 connecting, 1 open, 2 closing, 3 closed

const net = require('net')
const crypto = require('crypto')

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const OP_CONTINUATION = 0x0
const OP_TEXT = 0x1
const OP_BINARY = 0x2
const OP_CLOSE = 0x8
const OP_PING = 0x9
const OP_PONG = 0xA
const CONNECTING = 0
const OPEN = 1
const CLOSING = 2
const CLOSED = 3
const HEAD_END = Buffer.from('\r\n\r\n')
const NOOP = () => {}
// Every socket reads into this buffer: a read is handled before the next one starts, and what
// must outlive it (a partial frame, fragments) is copied out.
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024)

/** A whole masked client frame (FIN set) with the zero mask key; `payload` is a string (sent
 * as UTF-8) or a Buffer, written once straight into the frame. */
function clientFrame (opcode, payload) {
  const text = typeof payload === 'string'
  const n = text ? Buffer.byteLength(payload) : payload.length
  const head = n < 126 ? 6 : n < 0x10000 ? 8 : 14
  const frame = Buffer.allocUnsafe(head + n)
  frame[0] = 0x80 | opcode
  if (n < 126) {
    frame[1] = 0x80 | n
  } else if (n < 0x10000) {
    frame[1] = 0x80 | 126
    frame.writeUInt16BE(n, 2)
  } else {
    frame[1] = 0x80 | 127
    frame.writeBigUInt64BE(BigInt(n), 2)
  }
  frame.writeUInt32BE(0, head - 4) // mask key 0: XOR with it leaves the payload unchanged
  if (text) frame.write(payload, head)
  else payload.copy(frame, head)
  return frame
}

class RawWebSocket {
  constructor (url, handlers) {
    const u = new URL(url)
    if (u.protocol !== 'ws:') throw new Error(`unsupported scheme ${u.protocol}`)
    this.onOpen = handlers.open || NOOP
    this.onMessage = handlers.message || NOOP
    this.onClose = handlers.close || NOOP
    this.onError = handlers.error || NOOP
    this.readyState = CONNECTING
    this.closeCode = 1006 // abnormal closure unless a close frame says otherwise
    this.pending = null // copies of the reads holding an incomplete frame (or handshake response)
    this.pendingLength = 0
    this.need = 0 // bytes the incomplete frame needs in all, when its header says
    this.fragments = null // payloads of a fragmented message so far
    this.fragmentOpcode = 0
    this.key = crypto.randomBytes(16).toString('base64')
    const port = Number(u.port) || 80
    const socket = net.connect({
      host: u.hostname,
      port,
      onread: { buffer: READ_BUFFER, callback: (n, buf) => { this._data(buf.subarray(0, n)) } }
    })
    this.socket = socket
    // Small frames must leave at once, as ws does: Nagle would add the latency we measure.
    socket.setNoDelay(true)
    socket.on('connect', () => {
      socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\n` +
        `Host: ${u.host}\r\n` +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${this.key}\r\n` +
        'Sec-WebSocket-Version: 13\r\n\r\n')
    })
    socket.on('error', (err) => this.onError(err))
    socket.on('close', () => {
      this.readyState = CLOSED
      this.onClose(this.closeCode)
    })
  }

  /** Sends a text message (a string, or a Buffer holding UTF-8). */
  send (text) {
    if (this.readyState === OPEN) this.socket.write(clientFrame(OP_TEXT, text))
  }

  /** Sends a binary message (a Buffer). */
  sendBinary (data) {
    if (this.readyState === OPEN) this.socket.write(clientFrame(OP_BINARY, data))
  }

  /** Starts the closing handshake: a close frame, then the server ends the connection. */
  close (code = 1000) {
    if (this.readyState === CONNECTING) { this.terminate(); return }
    if (this.readyState !== OPEN) return
    this.readyState = CLOSING
    const body = Buffer.allocUnsafe(2)
    body.writeUInt16BE(code, 0)
    this.socket.write(clientFrame(OP_CLOSE, body))
    this.socket.end()
  }

  /** Drops the connection without a closing handshake. */
  terminate () {
    if (this.readyState === CLOSED) return
    this.readyState = CLOSING
    this.socket.destroy()
  }

  _fail (message) {
    this.onError(new Error(message))
    this.terminate()
  }

  _data (chunk) {
    let buf = chunk
    if (this.pending) {
      // A large frame arrives in many reads: join them once, when it is complete.
      if (this.pendingLength + chunk.length < this.need) {
        this.pending.push(Buffer.from(chunk))
        this.pendingLength += chunk.length
        return
      }
      this.pending.push(chunk)
      buf = Buffer.concat(this.pending)
      this.pending = null
    }
    let pos = 0
    if (this.readyState === CONNECTING) {
      pos = this._handshake(buf)
      if (pos < 0) return
    }
    const end = buf.length
    this.need = 0
    while (pos < end) {
      if (this.readyState === CLOSED) return
      if (end - pos < 2) break
      const first = buf[pos]
      const second = buf[pos + 1]
      if (second & 0x80) return this._fail('masked server frame')
      if (first & 0x70) return this._fail('reserved bits set')
      let length = second & 0x7F
      let head = 2
      if (length === 126) {
        if (end - pos < 4) break
        length = buf.readUInt16BE(pos + 2)
        head = 4
      } else if (length === 127) {
        if (end - pos < 10) break
        const big = buf.readBigUInt64BE(pos + 2)
        if (big > BigInt(Number.MAX_SAFE_INTEGER)) return this._fail('frame length out of range')
        length = Number(big)
        head = 10
      }
      if (end - pos < head + length) {
        this.need = head + length
        break
      }
      const start = pos + head
      pos = start + length
      this._frame(first & 0x80, first & 0x0F, buf, start, pos)
    }
    if (pos < end) this._keep(buf.subarray(pos))
  }

  /** Keeps the start of a frame (or of the handshake response) for the next read. */
  _keep (part) {
    this.pending = [Buffer.from(part)] // a copy: the read buffer is reused
    this.pendingLength = part.length
  }

  /** Reads the 101 response at the start of `buf`; returns where frames begin, or -1. */
  _handshake (buf) {
    const headEnd = buf.indexOf(HEAD_END)
    if (headEnd < 0) {
      if (buf.length > 16384) this._fail('handshake response too long')
      else this._keep(buf)
      return -1
    }
    const lines = buf.toString('latin1', 0, headEnd).split('\r\n')
    const status = lines[0].split(' ')[1]
    if (status !== '101') {
      this._fail(`unexpected server response: ${status}`)
      return -1
    }
    const accept = crypto.createHash('sha1').update(this.key + GUID).digest('base64')
    let accepted = false
    let extensions = false
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':')
      const name = lines[i].slice(0, colon).trim().toLowerCase()
      if (name === 'sec-websocket-accept') accepted = lines[i].slice(colon + 1).trim() === accept
      else if (name === 'sec-websocket-extensions') extensions = true
    }
    if (!accepted || extensions) {
      this._fail(accepted ? 'extension not asked for' : 'invalid Sec-WebSocket-Accept')
      return -1
    }
    this.readyState = OPEN
    this.onOpen()
    return this.readyState === OPEN ? headEnd + 4 : -1
  }

  _frame (fin, opcode, buf, start, end) {
    if (opcode >= 0x8) {
      if (!fin || end - start > 125) return this._fail('invalid control frame')
      if (opcode === OP_PING) {
        if (this.readyState === OPEN) this.socket.write(clientFrame(OP_PONG, buf.subarray(start, end)))
      } else if (opcode === OP_CLOSE) {
        if (end - start >= 2) this.closeCode = buf.readUInt16BE(start)
        else this.closeCode = 1005 // no status received
        if (this.readyState === OPEN) {
          // Echo the code, then end our side; 'close' follows when the server ends its side.
          this.readyState = CLOSING
          this.socket.write(clientFrame(OP_CLOSE, buf.subarray(start, Math.min(end, start + 2))))
          this.socket.end()
        }
      } else if (opcode !== OP_PONG) {
        this._fail(`unknown opcode ${opcode}`)
      }
      return
    }
    if (this.readyState !== OPEN) return
    if (opcode === OP_CONTINUATION) {
      if (!this.fragments) return this._fail('continuation without a message')
      this.fragments.push(Buffer.from(buf.subarray(start, end)))
      if (!fin) return
      const whole = Buffer.concat(this.fragments)
      this.fragments = null
      this.onMessage(whole, 0, whole.length, this.fragmentOpcode)
      return
    }
    if (opcode !== OP_TEXT && opcode !== OP_BINARY) return this._fail(`unknown opcode ${opcode}`)
    if (this.fragments) return this._fail('new message inside a fragmented one')
    if (!fin) {
      this.fragments = [Buffer.from(buf.subarray(start, end))]
      this.fragmentOpcode = opcode
      return
    }
    this.onMessage(buf, start, end, opcode)
  }
}

RawWebSocket.CONNECTING = CONNECTING
RawWebSocket.OPEN = OPEN
RawWebSocket.CLOSING = CLOSING
RawWebSocket.CLOSED = CLOSED

module.exports = { RawWebSocket }
