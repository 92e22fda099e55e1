// The public page of a share link (`/s/<token>`): the document read-only, live as its authors
// type, for anyone holding the link; no account, no sign-in. A password-protected link asks for
// its password first. When the link is revoked the live connection closes and the page says so.
import { useEffect, useRef, useState } from 'preact/hooks'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { socketBase } from '../api/client'
import { shared, type SharedDocument } from '../api/shares'
import { messageOf } from '../components/errors'
import { renderPreview } from '../editor/preview'

type Link = 'connecting' | 'live' | 'closed'

/** The text of a rich document's fragment, a line per block (the live view only reads it). */
function fragmentText (node: Y.XmlFragment | Y.XmlElement): string {
  const lines: string[] = []
  node.toArray().forEach((child) => {
    if (child instanceof Y.XmlText) lines.push(child.toString().replace(/<[^>]+>/g, ''))
    else if (child instanceof Y.XmlElement) lines.push(fragmentText(child))
  })
  return lines.join('\n')
}

const CLOSED: Record<number, string> = {
  4403: 'This link was revoked: the document is no longer shared.',
  4404: 'This link no longer works.',
  4401: 'This link needs its password again.'
}

export function Shared (props: { token: string }) {
  const [doc, setDoc] = useState<SharedDocument | null>(null)
  const [needsPassword, setNeedsPassword] = useState(false)
  const [password, setPassword] = useState('')
  const [unlocked, setUnlocked] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [link, setLink] = useState<Link>('connecting')
  const [closed, setClosed] = useState<string | null>(null)
  const body = useRef<HTMLElement>(null)

  const open = async (key: string | null): Promise<void> => {
    setError(null)
    try {
      setDoc(await shared.read(props.token, key))
      setNeedsPassword(false)
    } catch (problem) {
      const code = (problem as { code?: string }).code
      if (code === 'password_required') setNeedsPassword(true)
      else setError((problem as { status?: number }).status === 404 ? 'This link does not work: it may have expired or been revoked.' : messageOf(problem))
    }
  }
  useEffect(() => { void open(null) }, [props.token])
  useEffect(() => { if (doc) document.title = `${doc.title} · cowrite` }, [doc?.title])

  // The live view: the stock Yjs provider on the share socket, never sending an edit.
  useEffect(() => {
    if (!doc || !body.current) return
    const ydoc = new Y.Doc()
    const params: Record<string, string> = { share: props.token }
    if (unlocked) params.token = unlocked
    const provider = new WebsocketProvider(`${socketBase()}/ws/yjs`, doc.document_id, ydoc, { params, maxBackoffTime: 2000 })
    provider.awareness.setLocalState(null)
    const target = body.current
    const show = (): void => {
      const text = doc.format === 'rich' ? fragmentText(ydoc.getXmlFragment('default')) : ydoc.getText('content').toString()
      if (doc.format === 'rich') target.textContent = text
      else renderPreview(target, text)
      target.dataset.text = text
    }
    ydoc.on('update', show)
    provider.on('status', ({ status }) => { if (status === 'connected') setLink('live') })
    provider.on('closed', ({ code }) => {
      setLink('closed')
      setClosed(CLOSED[code] ?? 'The live view was closed.')
    })
    return () => { provider.destroy(); ydoc.destroy() }
  }, [doc?.document_id, unlocked])

  const unlock = async (): Promise<void> => {
    setError(null)
    try {
      const key = await shared.unlock(props.token, password)
      setUnlocked(key); setPassword('')
      await open(key)
    } catch (problem) { setError(messageOf(problem)) }
  }

  if (needsPassword) {
    return (
      <main class="page narrow shared-page">
        <h1>A shared document</h1>
        <form class="card" onSubmit={(e) => { e.preventDefault(); void unlock() }}>
          <p>This link is protected by a password.</p>
          {error && <p class="error" role="alert">{error}</p>}
          <div class="row">
            <label class="grow">Password<input type="password" required autoFocus value={password} onInput={(e) => setPassword(e.currentTarget.value)} /></label>
            <button class="primary" type="submit">Open</button>
          </div>
        </form>
      </main>
    )
  }
  if (error && !doc) return <main class="page narrow shared-page"><p class="error" role="alert">{error}</p></main>
  if (!doc) return <main class="loading" aria-busy="true">Opening the shared document…</main>
  return (
    <main class="page shared-page">
      <div class="row shared-head">
        <h1 class="grow">{doc.title}</h1>
        <span class={`badge link-${link === 'live' ? 'connected' : link === 'closed' ? 'offline' : 'connecting'}`} role="status" data-testid="shared-connection" data-link={link}>
          {link === 'live' ? 'Live' : link === 'closed' ? 'Closed' : 'Connecting…'}
        </span>
        <span class="badge readonly">Read only</span>
      </div>
      {closed && <p class="error" role="alert">{closed}</p>}
      <article class="card markdown shared-text" ref={body} data-testid="shared-text" aria-label="Document" />
      <p class="muted small shared-foot">Shared from cowrite. You are reading it as an anonymous reader.</p>
    </main>
  )
}
