// Who else is in the document, from the presence socket (/ws): joins, leaves, typing, editing.
// The editor merges this with Yjs awareness into one list of people. Without a document the same
// socket carries only what the server pushes to the person (notifications, unread count).
import { auth, refresh, socketBase } from '../api/client'
import type { Role } from '../api/types'

export interface PresencePeer { user_id: string, full_name: string, connection_id: string, is_editing: boolean, is_typing: boolean }
type Listener = (peers: PresencePeer[]) => void
export type ServerEvent = Record<string, unknown> & { type: string }

// One /ws per tab: every connection of a person receives their notifications, so while a
// document is open the header's bell listens on that document's socket and keeps none of its own.
let tabSocket: PresenceSocket | null = null
const tabListeners = new Set<(socket: PresenceSocket | null) => void>()

function setTabSocket (socket: PresenceSocket | null): void {
  tabSocket = socket
  tabListeners.forEach((listener) => listener(socket))
}

/** Follow the tab's document socket (null while no document is open). */
export function onTabSocket (listener: (socket: PresenceSocket | null) => void): () => void {
  tabListeners.add(listener)
  listener(tabSocket)
  return () => { tabListeners.delete(listener) }
}
/** The server closes a `/ws` that stays silent for its presence timeout (45 s by default): a page
 *  where nobody types (a call, a reader) says it is still there well within that. */
const HEARTBEAT_MS = 15000

export class PresenceSocket {
  private socket: WebSocket | null = null
  private readonly peers = new Map<string, PresencePeer>()
  private readonly listeners = new Set<Listener>()
  private readonly roleListeners = new Set<(workspaceId: string, role: Role) => void>()
  private readonly eventListeners = new Set<(event: ServerEvent) => void>()
  private connectionId: string | null = null
  private lastTyping = 0
  private closed = false
  private retry: ReturnType<typeof setTimeout> | undefined
  private attempts = 0
  private stopWaiting: (() => void) | null = null
  private beat: ReturnType<typeof setInterval> | undefined
  private lastSent = 0

  constructor (private readonly documentId: string | null) {
    this.open()
    if (documentId) setTabSocket(this)
  }

  private open (): void {
    if (this.closed || !auth.token) return
    const socket = new WebSocket(`${socketBase()}/ws?token=${encodeURIComponent(auth.token)}`)
    this.socket = socket
    socket.onopen = () => {
      this.attempts = 0
      this.lastSent = Date.now()
      if (this.documentId) socket.send(JSON.stringify({ type: 'join_document', document_id: this.documentId }))
      clearInterval(this.beat)
      this.beat = setInterval(() => {
        if (socket.readyState === WebSocket.OPEN && Date.now() - this.lastSent >= HEARTBEAT_MS) {
          this.lastSent = Date.now()
          socket.send(JSON.stringify({ type: 'heartbeat' }))
        }
      }, HEARTBEAT_MS / 3)
    }
    socket.onmessage = (event) => { this.receive(JSON.parse(event.data as string)) }
    socket.onclose = (event) => {
      if (this.socket === socket) clearInterval(this.beat)
      this.peers.clear()
      this.emit()
      if (this.closed) return
      const again = (): void => { this.retry = setTimeout(() => this.open(), Math.min(2000, 200 * 2 ** this.attempts++)) }
      if (event.code === 4401) void refresh().then((ok) => { if (ok) again(); else this.waitForToken() })
      else if (event.code !== 4403 && event.code !== 4404) again()
      else this.releaseTab()
    }
  }

  /** Signed out: open again once signing in gives a new token. */
  private waitForToken (): void {
    const stop = auth.onToken(() => { if (auth.token) { stop(); this.open() } })
    this.stopWaiting = stop
  }

  private receive (message: Record<string, unknown>): void {
    const kind = message.type as string
    if (kind === 'batch') { (message.events as Array<Record<string, unknown>>).forEach((event) => this.receive(event)); return }
    if (kind === 'connected') {
      this.connectionId = message.connection_id as string
      this.eventListeners.forEach((listener) => listener(message as ServerEvent))
      return
    }
    if (kind === 'role_changed') { this.roleListeners.forEach((listener) => listener(message.workspace_id as string, message.role as Role)); return }
    // A role on one document (a listed person's): told under the document's id.
    if (kind === 'document_role_changed') { this.roleListeners.forEach((listener) => listener(message.document_id as string, message.role as Role)); return }
    this.eventListeners.forEach((listener) => listener(message as ServerEvent))
    if (message.document_id !== this.documentId) return
    if (kind === 'presence_list') {
      this.peers.clear()
      for (const user of message.users as PresencePeer[]) this.peers.set(user.connection_id, { ...user, is_typing: false })
    } else if (kind === 'user_joined') {
      const user = message.user as PresencePeer
      this.peers.set(user.connection_id, { ...user, is_typing: false })
    } else if (kind === 'user_left') {
      this.peers.delete(message.connection_id as string)
    } else if (kind === 'typing' || kind === 'editing_start' || kind === 'editing_stop') {
      const peer = this.peers.get(message.connection_id as string)
      if (!peer) return
      if (kind === 'typing') peer.is_typing = message.is_typing !== false
      else peer.is_editing = kind === 'editing_start'
    } else {
      return
    }
    this.emit()
  }

  private emit (): void {
    const others = [...this.peers.values()].filter((peer) => peer.connection_id !== this.connectionId)
    this.listeners.forEach((listener) => listener(others))
  }

  private send (message: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.lastSent = Date.now()
      this.socket.send(JSON.stringify({ ...message, document_id: this.documentId }))
    }
  }

  /** Called on every local keystroke; sends at most one `typing` a second. */
  typed (): void {
    const now = Date.now()
    if (now - this.lastTyping < 1000) return
    this.lastTyping = now
    this.send({ type: 'typing' })
  }

  editing (on: boolean): void { this.send({ type: on ? 'editing_start' : 'editing_stop' }) }

  /** This socket's connection id (null until connected). */
  get id (): string | null { return this.connectionId }

  /** A call message for this document (`call_join`, `call_leave`, `call_media`, `rtc_signal`). */
  call (message: Record<string, unknown>): void { this.send(message) }

  subscribe (listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** The server tells an open page when the person's role in a workspace changes. */
  onRole (listener: (workspaceId: string, role: Role) => void): () => void {
    this.roleListeners.add(listener)
    return () => this.roleListeners.delete(listener)
  }

  /** Every other event the server sends (comments, notifications), as it arrives. */
  onEvent (listener: (event: ServerEvent) => void): () => void {
    this.eventListeners.add(listener)
    return () => this.eventListeners.delete(listener)
  }

  private releaseTab (): void { if (tabSocket === this) setTabSocket(null) }

  destroy (): void {
    this.releaseTab()
    this.closed = true
    this.stopWaiting?.()
    clearTimeout(this.retry)
    clearInterval(this.beat)
    this.socket?.close()
  }
}
