// One document's live session: the Y.Doc kept in IndexedDB (typed offline survives a reload),
// the stock y-websocket provider on /ws/yjs, and the connection state the page shows.
import * as Y from 'yjs'
import { IndexeddbPersistence } from 'y-indexeddb'
import { WebsocketProvider } from 'y-websocket'
import { auth, refresh, socketBase } from '../api/client'
import type { User } from '../api/types'
import { colorOf } from './colors'

export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'offline'
export interface CollabState { link: LinkState, synced: boolean, unsynced: boolean, closed: { code: number, reason: string } | null }

export class CollabSession {
  readonly doc = new Y.Doc()
  readonly text = this.doc.getText('content')
  readonly provider: WebsocketProvider
  readonly local: IndexeddbPersistence
  state: CollabState = { link: 'connecting', synced: false, unsynced: false, closed: null }
  private everConnected = false
  private readonly listeners = new Set<(state: CollabState) => void>()
  private readonly cleanups: Array<() => void> = []

  constructor (readonly documentId: string, user: User) {
    this.local = new IndexeddbPersistence(`cowrite:${documentId}`, this.doc)
    this.provider = new WebsocketProvider(`${socketBase()}/ws/yjs`, documentId, this.doc, {
      params: { token: auth.token ?? '' },
      connect: navigator.onLine,
      maxBackoffTime: 2000
    })
    const { color, light } = colorOf(user.id)
    this.provider.awareness.setLocalStateField('user', { id: user.id, name: user.full_name, color, colorLight: light })

    this.provider.on('status', ({ status }) => {
      if (status === 'connected') this.everConnected = true
      this.update({ link: this.linkOf(status) })
    })
    this.provider.on('sync', (synced: boolean) => {
      this.update({ synced, unsynced: synced ? false : this.state.unsynced })
    })
    // The server closed for good (4401 token expired, 4403 no access, 4404 gone): a fresh token
    // is worth one more try; anything else is shown to the person.
    this.provider.on('closed', ({ code, reason }) => {
      if (code === 4401) {
        void refresh().then((ok) => { if (ok) this.reconnect(); else auth.ended() })
        return
      }
      this.update({ closed: { code, reason } })
    })
    this.doc.on('update', (_update: Uint8Array, origin: unknown) => {
      if (origin !== this.provider && origin !== this.local && !this.provider.synced) this.update({ unsynced: true })
    })
    // A new token (silent refresh, or signing in again after the session ended) is used by the
    // next connection; a provider stopped for want of one starts again.
    this.cleanups.push(auth.onToken(() => { if (auth.token && !this.provider.shouldConnect) this.reconnect(); else this.provider.params = { token: auth.token ?? '' } }))
    const offline = (): void => { this.provider.disconnect(); this.update({ link: 'offline' }) }
    const online = (): void => { this.update({ link: 'reconnecting' }); this.provider.connect() }
    window.addEventListener('offline', offline)
    window.addEventListener('online', online)
    this.cleanups.push(() => { window.removeEventListener('offline', offline); window.removeEventListener('online', online) })
    if (!navigator.onLine) this.state = { ...this.state, link: 'offline' }
  }

  private reconnect (): void {
    this.provider.params = { token: auth.token ?? '' }
    if (navigator.onLine) this.provider.connect()
  }

  private linkOf (status: string): LinkState {
    if (!navigator.onLine) return 'offline'
    if (status === 'connected') return 'connected'
    return this.everConnected ? 'reconnecting' : 'connecting'
  }

  private update (patch: Partial<CollabState>): void {
    this.state = { ...this.state, ...patch }
    this.listeners.forEach((listener) => listener(this.state))
  }

  subscribe (listener: (state: CollabState) => void): () => void {
    this.listeners.add(listener)
    listener(this.state)
    return () => this.listeners.delete(listener)
  }

  destroy (): void {
    this.cleanups.forEach((cleanup) => cleanup())
    this.provider.destroy()
    void this.local.destroy()
    this.doc.destroy()
  }
}
