// The call bar of the editor page: who is in the document's call (beside the avatars), join and
// leave, mute, camera and screen sharing; and the participants' video tiles below the tools.
import { useEffect, useRef, useState } from 'preact/hooks'
import { type CallView, CallSession, type Tile } from './call'
import type { PresenceSocket } from './presence'

export interface Call { session: CallSession | null, view: CallView | null }

/** The document's call over the page's presence socket (none until the socket exists). */
export function useCall (documentId: string, presence: PresenceSocket | null): Call {
  const [session, setSession] = useState<CallSession | null>(null)
  const [view, setView] = useState<CallView | null>(null)
  useEffect(() => {
    if (!presence) return
    const call = new CallSession(presence, documentId)
    setSession(call)
    const unsubscribe = call.subscribe(setView)
    return () => { unsubscribe(); call.destroy(); setSession(null); setView(null) }
  }, [documentId, presence])
  return { session, view }
}

export function CallBar (props: { call: Call }) {
  const { session, view } = props.call
  if (!session || !view) return null
  const count = view.participants.length
  const names = view.participants.map((p) => p.full_name).join(', ')
  return (
    <div class="callbar" role="group" aria-label="Call">
      {count > 0 && (
        <span class="call-badge" data-testid="call-count" title={names}>
          <span aria-hidden="true">●</span> {count} in call
        </span>
      )}
      {!view.joined && (
        <button type="button" onClick={() => { void session.join() }} disabled={view.joining}>
          {view.joining ? 'Joining…' : count > 0 ? 'Join call' : 'Start call'}
        </button>
      )}
      {view.joined && (
        <>
          <button type="button" aria-pressed={!view.media.audio} onClick={() => session.toggleAudio()}>{view.media.audio ? 'Mute' : 'Unmute'}</button>
          <button type="button" aria-pressed={view.media.video} onClick={() => session.toggleVideo()}>Camera</button>
          <button type="button" aria-pressed={view.media.screen} onClick={() => { void session.toggleScreen() }}>Share screen</button>
          <button type="button" class="danger" onClick={() => session.leave()}>Leave call</button>
        </>
      )}
      {view.error && <span class="error small" role="alert">{view.error}</span>}
    </div>
  )
}

export function CallTiles (props: { call: Call }) {
  const view = props.call.view
  if (!view?.joined) return null
  return (
    <ul class="call-tiles" aria-label="Call participants">
      {view.tiles.map((tile) => <CallTile key={tile.id} tile={tile} />)}
    </ul>
  )
}

function CallTile (props: { tile: Tile }) {
  const { tile } = props
  const video = useRef<HTMLVideoElement>(null)
  useEffect(() => {
    const element = video.current
    if (element && element.srcObject !== tile.stream) element.srcObject = tile.stream
  }, [tile.stream])
  const state = [tile.media.audio ? null : 'muted', tile.media.screen ? 'sharing screen' : null].filter(Boolean).join(', ')
  return (
    <li class="call-tile" data-connection={tile.id} data-me={String(tile.me)} data-screen={String(tile.media.screen)}>
      <video ref={video} autoPlay playsInline muted={tile.me} />
      <span class="call-name">{tile.name}{state && <span class="muted"> · {state}</span>}</span>
    </li>
  )
}
