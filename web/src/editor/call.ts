// The document's call: who is in it (from the presence socket), and this browser's part in it —
// one RTCPeerConnection per other participant (a mesh), negotiated with the "perfect negotiation"
// pattern over `rtc_signal` frames that cowrite relays. Media never passes through the server.
import { api } from '../api/client'
import type { PresenceSocket, ServerEvent } from './presence'

export interface Media { audio: boolean, video: boolean, screen: boolean }
export interface Participant { connection_id: string, user_id: string, full_name: string, media: Media }
export interface Tile { id: string, name: string, media: Media, stream: MediaStream | null, me: boolean }
export interface CallView {
  joined: boolean
  joining: boolean
  participants: Participant[]
  tiles: Tile[]
  media: Media
  error: string | null
}

type Signal = { type: 'offer' | 'answer', sdp: string } | { type: 'candidate', candidate: RTCIceCandidateInit }

const OFF: Media = { audio: false, video: false, screen: false }

/** One other participant: a peer connection that either side may (re)negotiate at any time. */
class Peer {
  readonly pc: RTCPeerConnection
  stream: MediaStream | null = null
  private makingOffer = false
  private ignoreOffer = false
  private applying: Promise<void> = Promise.resolve()

  constructor (
    readonly id: string,
    private readonly polite: boolean,
    iceServers: RTCIceServer[],
    private readonly send: (signal: Signal) => void,
    private readonly changed: () => void
  ) {
    this.pc = new RTCPeerConnection({ iceServers })
    this.pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true
        await this.pc.setLocalDescription()
        this.sendDescription()
      } catch (problem) {
        console.warn('call: could not make an offer', problem)
      } finally {
        this.makingOffer = false
      }
    }
    this.pc.onicecandidate = ({ candidate }) => { if (candidate) this.send({ type: 'candidate', candidate: candidate.toJSON() }) }
    // A path that failed (a network change, checks starved on a busy machine) is searched again:
    // new ICE credentials go out with the next offer, which onnegotiationneeded makes.
    this.pc.oniceconnectionstatechange = () => { if (this.pc.iceConnectionState === 'failed') this.pc.restartIce() }
    this.pc.ontrack = ({ track, streams }) => {
      this.stream = streams[0] ?? this.stream ?? new MediaStream()
      if (!this.stream.getTracks().includes(track)) this.stream.addTrack(track)
      track.onunmute = () => this.changed()
      this.changed()
    }
  }

  private sendDescription (): void {
    const description = this.pc.localDescription
    if (description && (description.type === 'offer' || description.type === 'answer')) this.send({ type: description.type, sdp: description.sdp })
  }

  /** Signals are applied one after another: a candidate that overtook the description it
   *  belongs to would be refused (no remote description yet) and lost. */
  receive (signal: Signal): Promise<void> {
    this.applying = this.applying.then(async () => await this.apply(signal))
    return this.applying
  }

  private async apply (signal: Signal): Promise<void> {
    try {
      if (signal.type === 'candidate') {
        try { await this.pc.addIceCandidate(signal.candidate) } catch (problem) { if (!this.ignoreOffer) throw problem }
        return
      }
      const collision = signal.type === 'offer' && (this.makingOffer || this.pc.signalingState !== 'stable')
      this.ignoreOffer = !this.polite && collision
      if (this.ignoreOffer) return
      await this.pc.setRemoteDescription({ type: signal.type, sdp: signal.sdp })
      if (signal.type === 'offer') {
        await this.pc.setLocalDescription()
        this.sendDescription()
      }
    } catch (problem) {
      console.warn('call: a signal could not be applied', problem)
    }
  }

  close (): void { this.pc.close() }
}

export class CallSession {
  private readonly roster = new Map<string, Participant>()
  private readonly peers = new Map<string, Peer>()
  private readonly listeners = new Set<(view: CallView) => void>()
  private local: MediaStream | null = null
  private camera: MediaStreamTrack | null = null
  private screen: MediaStreamTrack | null = null
  private media: Media = { ...OFF }
  private joined = false
  private joining = false
  // In the call as far as this page is concerned (call_join sent, no leave since): a new
  // presence socket joins again. `self` is the connection the call knew this page by.
  private wanted = false
  private self: string | null = null
  private rejoin = false
  private error: string | null = null
  private iceServers: RTCIceServer[] = []
  private readonly stop: () => void

  constructor (private readonly presence: PresenceSocket, private readonly documentId: string) {
    this.stop = presence.onEvent((event) => this.receive(event))
  }

  subscribe (listener: (view: CallView) => void): () => void {
    this.listeners.add(listener)
    listener(this.view())
    return () => this.listeners.delete(listener)
  }

  private view (): CallView {
    const me = this.presence.id
    const tiles: Tile[] = []
    if (this.joined && me) tiles.push({ id: me, name: 'You', media: this.media, stream: this.local, me: true })
    for (const participant of this.roster.values()) {
      if (participant.connection_id === me || !this.joined) continue
      const peer = this.peers.get(participant.connection_id)
      tiles.push({ id: participant.connection_id, name: participant.full_name, media: participant.media, stream: peer?.stream ?? null, me: false })
    }
    return { joined: this.joined, joining: this.joining, participants: [...this.roster.values()], tiles, media: { ...this.media }, error: this.error }
  }

  private emit (): void {
    const view = this.view()
    this.listeners.forEach((listener) => listener(view))
  }

  private receive (event: ServerEvent): void {
    if (event.type === 'connected') {
      // A new socket (the old one dropped): the server takes the old connection out of the call.
      // Stay in it: once the new connection is back in the document, join again with the same
      // media (the others connect to the new connection and everyone renegotiates).
      this.roster.clear()
      if (this.wanted) {
        this.closePeers()
        this.joined = false
        this.joining = true
        this.rejoin = true
      }
      this.emit()
      return
    }
    if (event.document_id !== this.documentId) return
    const me = this.presence.id
    switch (event.type) {
      case 'presence_list':
        this.roster.clear()
        for (const user of event.users as Array<Participant & { call: Media | null }>) {
          if (user.call) this.roster.set(user.connection_id, { ...user, media: user.call })
        }
        if (this.rejoin) {
          this.rejoin = false
          this.presence.call({ type: 'call_join', media: this.media, ...(this.self ? { replaces: this.self } : {}) })
        }
        break
      case 'call_state':
        this.joined = true
        this.joining = false
        this.self = me
        this.error = null
        this.roster.clear()
        for (const participant of event.participants as Participant[]) {
          this.roster.set(participant.connection_id, participant)
          if (participant.connection_id !== me) this.connect(participant.connection_id)
        }
        break
      case 'call_joined':
      case 'call_media': {
        const participant = event as unknown as Participant
        this.roster.set(participant.connection_id, { connection_id: participant.connection_id, user_id: participant.user_id, full_name: participant.full_name, media: participant.media })
        // Nothing to connect yet: the newcomer offers to everyone in its call_state, and its
        // offer makes the peer here. Offering from both sides at once (glare) made one side roll
        // its offer back, and Chromium then sometimes never gathered its ICE candidates again.
        break
      }
      case 'call_left':
      case 'user_left': {
        const id = event.connection_id as string
        if (id === me) {
          if (event.type === 'call_left' || event.reason) { this.roster.delete(id); this.hangUp() }
        } else {
          this.roster.delete(id)
          this.peers.get(id)?.close()
          this.peers.delete(id)
        }
        break
      }
      case 'rtc_signal':
        if (this.joined) void this.connect(event.from as string).receive(event.signal as Signal)
        return
      case 'error':
        if (!this.joining) return
        this.joining = false
        this.wanted = false
        this.rejoin = false
        this.error = event.code === 'call_full' ? 'The call is full.' : String(event.message ?? 'Could not join the call.')
        this.release()
        break
      default:
        return
    }
    this.emit()
  }

  /** The peer connection to one participant, made with this browser's tracks on first need. */
  private connect (id: string): Peer {
    let peer = this.peers.get(id)
    if (peer) return peer
    const me = this.presence.id ?? ''
    peer = new Peer(id, me < id, this.iceServers, (signal) => this.presence.call({ type: 'rtc_signal', to: id, signal }), () => this.emit())
    this.peers.set(id, peer)
    const video = this.screen ?? this.camera
    for (const track of [...(this.local?.getAudioTracks() ?? []), ...(video ? [video] : [])]) peer.pc.addTrack(track, this.local ?? new MediaStream())
    if (!video) peer.pc.addTransceiver('video', { direction: 'recvonly' })
    return peer
  }

  async join (): Promise<void> {
    if (this.joined || this.joining) return
    this.joining = true
    this.error = null
    this.emit()
    this.iceServers = await api.iceServers()
      .then((answer) => answer.ice_servers.map((server) => ({ urls: server.urls, username: server.username, credential: server.credential })))
      .catch(() => [])
    const devices = navigator.mediaDevices
    this.local = await devices?.getUserMedia({ audio: true, video: true })
      .catch(async () => await devices.getUserMedia({ audio: true }))
      .catch(() => null) ?? null
    this.camera = this.local?.getVideoTracks()[0] ?? null
    this.media = { audio: (this.local?.getAudioTracks().length ?? 0) > 0, video: this.camera !== null, screen: false }
    this.wanted = true
    this.presence.call({ type: 'call_join', media: this.media })
  }

  leave (): void {
    if (!this.wanted) return
    this.presence.call({ type: 'call_leave' })
    // Out of the call at once here: the count beside the avatars no longer counts this page.
    if (this.presence.id) this.roster.delete(this.presence.id)
    this.hangUp()
    this.emit()
  }

  private hangUp (): void {
    this.joined = false
    this.joining = false
    this.wanted = false
    this.rejoin = false
    this.self = null
    this.closePeers()
    this.release()
  }

  private closePeers (): void {
    this.peers.forEach((peer) => peer.close())
    this.peers.clear()
  }

  private release (): void {
    this.local?.getTracks().forEach((track) => track.stop())
    this.screen?.stop()
    this.local = null
    this.camera = null
    this.screen = null
    this.media = { ...OFF }
  }

  private announce (): void {
    this.presence.call({ type: 'call_media', media: this.media })
    this.emit()
  }

  toggleAudio (): void {
    const tracks = this.local?.getAudioTracks() ?? []
    if (tracks.length === 0) return
    const on = !this.media.audio
    tracks.forEach((track) => { track.enabled = on })
    this.media = { ...this.media, audio: on }
    this.announce()
  }

  toggleVideo (): void {
    if (!this.camera) return
    const on = !this.media.video
    this.camera.enabled = on
    this.media = { ...this.media, video: on }
    this.announce()
  }

  /** Share the screen in place of the camera (the same video sender, no renegotiation), or add
   *  a video track where there was none. */
  async toggleScreen (): Promise<void> {
    if (this.screen) { this.stopSharing(); return }
    let display: MediaStream
    try {
      display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })
    } catch {
      return // the person cancelled the picker
    }
    const track = display.getVideoTracks()[0]
    if (!track || !this.joined) { display.getTracks().forEach((t) => t.stop()); return }
    this.screen = track
    track.onended = () => this.stopSharing()
    this.useVideo(track)
    this.media = { ...this.media, screen: true }
    this.announce()
  }

  private stopSharing (): void {
    const screen = this.screen
    if (!screen) return
    this.screen = null
    screen.stop()
    this.useVideo(this.camera)
    this.media = { ...this.media, screen: false }
    this.announce()
  }

  private useVideo (track: MediaStreamTrack | null): void {
    if (this.local) {
      for (const old of this.local.getVideoTracks()) this.local.removeTrack(old)
      if (track) this.local.addTrack(track)
    } else if (track) {
      this.local = new MediaStream([track])
    }
    for (const peer of this.peers.values()) {
      const sender = peer.pc.getSenders().find((s) => s.track?.kind === 'video') ??
        peer.pc.getTransceivers().find((t) => t.receiver.track.kind === 'video' && t.sender.track === null)?.sender
      if (sender) {
        const transceiver = peer.pc.getTransceivers().find((t) => t.sender === sender)
        if (transceiver && track && transceiver.direction === 'recvonly') transceiver.direction = 'sendrecv'
        void sender.replaceTrack(track)
      } else if (track) {
        peer.pc.addTrack(track, this.local ?? new MediaStream([track]))
      }
    }
  }

  destroy (): void {
    this.stop()
    this.leave()
    this.listeners.clear()
  }
}
