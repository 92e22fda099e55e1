// The editor page: title, the co-edited Markdown with remote carets, the preview, the people
// present, the connection state, the history and comments panels, attachments; read-only below
// editor (a commenter still comments).
import { useEffect, useRef, useState } from 'preact/hooks'
import type { EditorProps } from '../App'
import { api } from '../api/client'
import { atLeast, type DocumentFull, type Member, type Role, type Thread } from '../api/types'
import { AccessPanel } from '../components/AccessPanel'
import { Link } from '../components/Link'
import { messageOf } from '../components/errors'
import { ShareDialog } from '../components/ShareDialog'
import { anchorOf } from '../editor/anchors'
import { CallBar, CallTiles, useCall } from '../editor/CallBar'
import { type CollabState, CollabSession } from '../editor/collab'
import { createEditor, type Editor as CodeEditor } from '../editor/codemirror'
import { CommentsPanel, type Draft } from '../editor/Comments'
import { ConnectionBadge, closedText } from '../editor/Connection'
import { useComments } from '../editor/comments'
import { History } from '../editor/History'
import { mergePeople, People, type Person } from '../editor/People'
import { PresenceSocket } from '../editor/presence'
import { renderPreview } from '../editor/preview'
import { useSearch } from '../router'

export function Editor (props: EditorProps) {
  const { documentId, shell } = props
  const [doc, setDoc] = useState<DocumentFull | null>(null)
  const [role, setRole] = useState<Role | undefined>()
  const [title, setTitle] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [state, setState] = useState<CollabState | null>(null)
  const [people, setPeople] = useState<Person[]>([])
  const [preview, setPreview] = useState(true)
  const [panel, setPanel] = useState<'history' | 'comments' | 'access' | null>(null)
  const [draft, setDraft] = useState<Draft | null>(null)
  const [members, setMembers] = useState<Member[]>([])
  const [live, setLive] = useState<{ collab: CollabSession, presence: PresenceSocket, editor: CodeEditor } | null>(null)
  const [uploading, setUploading] = useState(0)
  const [sharing, setSharing] = useState(false)
  const host = useRef<HTMLDivElement>(null)
  const previewBox = useRef<HTMLDivElement>(null)
  const editor = useRef<CodeEditor | null>(null)
  const session = useRef<CollabSession | null>(null)
  const canWrite = atLeast(role, 'editor')
  const canComment = atLeast(role, 'commenter')
  const comments = useComments(documentId, live?.collab.doc ?? null, live?.presence ?? null, live?.editor ?? null)
  const search = useSearch()
  const call = useCall(documentId, live?.presence ?? null)

  useEffect(() => {
    void (async () => {
      try {
        const loaded = await api.document(documentId)
        setDoc(loaded)
        setTitle(loaded.title)
        const known = shell.workspaces.find((w) => w.id === loaded.workspace_id)
        // The role on this document (a listed person's, a guest's), else the workspace's.
        setRole(loaded.role ?? (known ? known.role : (await api.workspace(loaded.workspace_id)).role))
        setMembers(await api.members(loaded.workspace_id).catch(() => []))
      } catch (problem) { setError(messageOf(problem)) }
    })()
  }, [documentId])

  // The live session starts at once, beside the requests above, read-only until the role is
  // known: a viewer never gets a writable editor, and nobody waits for REST to see the text.
  const workspaceId = useRef<string | null>(null)
  workspaceId.current = doc?.workspace_id ?? null
  useEffect(() => {
    if (!host.current) return
    const collab = new CollabSession(documentId, shell.user)
    const presence = new PresenceSocket(documentId)
    session.current = collab
    let peers: Parameters<typeof mergePeople>[1] = []
    const refreshPeople = (): void => setPeople(mergePeople(collab.provider.awareness, peers, shell.user.id))
    const unsubscribes = [
      collab.subscribe(setState),
      presence.subscribe((list) => { peers = list; refreshPeople() }),
      presence.onRole((changedIn, next) => {
        if (changedIn === documentId) setRole(next)
        // A workspace role counts here unless a document role decides: read it again.
        else if (changedIn === workspaceId.current) void api.document(documentId).then((loaded) => setRole(loaded.role ?? next), () => setRole(next))
      })
    ]
    collab.provider.awareness.on('change', refreshPeople)
    // The preview follows the text a little behind it, so a burst of keystrokes renders once.
    let pending: ReturnType<typeof setTimeout> | undefined
    const drawPreview = (): void => {
      clearTimeout(pending)
      pending = setTimeout(() => { if (previewBox.current && !previewBox.current.hidden) renderPreview(previewBox.current, collab.text.toString()) }, 100)
    }
    collab.text.observe(drawPreview)
    drawPreview()
    const upload = async (files: File[], at: number): Promise<void> => {
      const target = workspaceId.current
      if (!target) return
      for (const file of files) {
        setUploading((n) => n + 1)
        try {
          const stored = await api.upload(target, documentId, file)
          const link = `${file.type.startsWith('image/') ? '!' : ''}[${stored.filename.replace(/[[\]]/g, '')}](/api/v1/files/${stored.id}/content)`
          editor.current?.insert(at, `${link}\n`)
        } catch (problem) {
          setError(`Could not upload ${file.name}: ${messageOf(problem)}`)
        } finally {
          setUploading((n) => n - 1)
        }
      }
    }
    editor.current = createEditor(host.current, collab.text, collab.provider.awareness, true, {
      onLocalEdit: () => presence.typed(),
      onFocus: (focused) => presence.editing(focused),
      onFiles: (files, at) => { void upload(files, at) },
      onThread: (id) => { setPanel('comments'); comments.setActive(id) }
    })
    setLive({ collab, presence, editor: editor.current })
    return () => {
      unsubscribes.forEach((unsubscribe) => unsubscribe())
      collab.provider.awareness.off('change', refreshPeople)
      collab.text.unobserve(drawPreview)
      clearTimeout(pending)
      editor.current?.destroy()
      editor.current = null
      presence.destroy()
      collab.destroy()
      session.current = null
      setLive(null)
    }
  }, [documentId])

  useEffect(() => { editor.current?.setReadOnly(!canWrite) }, [canWrite])

  // Opened from a notification (`?comment=<id>`): show that comment's thread.
  const wanted = new URLSearchParams(search).get('comment')
  useEffect(() => {
    if (!wanted) return
    const thread = comments.threads.find((t) => t.id === wanted || t.replies.some((r) => r.id === wanted))
    if (!thread) return
    setPanel('comments')
    jump(thread)
  }, [wanted, comments.threads.length > 0])

  const jump = (thread: Thread): void => {
    comments.setActive(thread.id)
    const at = comments.located.get(thread.id)
    if (at) editor.current?.reveal(at.from)
  }

  const startComment = (): void => {
    const range = editor.current?.selection()
    const collab = session.current
    if (!range || !collab) { setError('Select the text to comment on first.'); return }
    setError(null)
    setDraft({ anchor: anchorOf(collab.text, range.from, range.to), quote: collab.text.toString().slice(range.from, range.to) })
    setPanel('comments')
  }
  useEffect(() => {
    if (preview && previewBox.current && session.current) renderPreview(previewBox.current, session.current.text.toString())
  }, [preview])

  const saveTitle = async (): Promise<void> => {
    if (!doc || title.trim() === doc.title || !title.trim()) return
    try { setDoc(await api.updateDocument(documentId, { title: title.trim() })) } catch (problem) { setError(messageOf(problem)) }
  }

  if (error && !doc) return <main class="page"><p class="error" role="alert">{error}</p><Link href="/">Back to your documents</Link></main>
  const closed = closedText(state)

  return (
    <div class={panel ? 'editor-page with-panel' : 'editor-page'}>
      <main class="editor-main" aria-busy={role === undefined}>
        <div class="editor-head">
          {doc && <Link href={`/w/${doc.workspace_id}`} class="back">← Documents</Link>}
          <label class="visually-hidden" for="doc-title">Title</label>
          <input id="doc-title" class="doc-title" value={title} readOnly={!canWrite}
            onInput={(e) => setTitle(e.currentTarget.value)} onBlur={() => { void saveTitle() }}
            onKeyDown={(e) => { if (e.key === 'Enter') (e.currentTarget as HTMLInputElement).blur() }} />
          {state && <ConnectionBadge state={state} />}
          {!canWrite && role && <span class="badge readonly" data-testid="read-only">Read only</span>}
        </div>
        <div class="editor-tools">
          <People people={people} />
          <CallBar call={call} />
          {uploading > 0 && <span class="muted small" role="status">Uploading…</span>}
          <div class="spacer" />
          <button type="button" aria-pressed={preview} onClick={() => setPreview(!preview)}>Preview</button>
          {canComment && <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={startComment}>Comment</button>}
          <button type="button" aria-pressed={panel === 'comments'} onClick={() => setPanel(panel === 'comments' ? null : 'comments')}>Comments</button>
          <button type="button" aria-pressed={panel === 'history'} onClick={() => setPanel(panel === 'history' ? null : 'history')}>History</button>
          <button type="button" aria-haspopup="dialog" onClick={() => setSharing(true)}>Share</button>
          <button type="button" aria-pressed={panel === 'access'} onClick={() => setPanel(panel === 'access' ? null : 'access')}>Access</button>
        </div>
        {closed && <p class="error" role="alert">{closed}</p>}
        {error && doc && <p class="error" role="alert">{error}</p>}
        <CallTiles call={call} />
        <div class={preview ? 'panes split' : 'panes'}>
          <div class="pane editor-pane" ref={host} data-testid="editor" />
          <div class="pane preview markdown" ref={previewBox} hidden={!preview} aria-label="Preview" role="region" data-testid="preview" />
        </div>
      </main>
      {sharing && <ShareDialog documentId={documentId} canShare={canWrite} onClose={() => setSharing(false)} />}
      {panel === 'access' && doc && (
        <AccessPanel documentId={documentId} visibility={doc.visibility ?? 'workspace'} canManage={canWrite} me={shell.user.id}
          onVisibility={(visibility) => setDoc({ ...doc, visibility })} onClose={() => setPanel(null)} />
      )}
      {panel === 'history' && <History documentId={documentId} canWrite={canWrite} onClose={() => setPanel(null)} />}
      {panel === 'comments' && (
        <CommentsPanel documentId={documentId} comments={comments} me={shell.user} role={role} members={members}
          draft={draft} onDraftDone={() => setDraft(null)} onJump={jump} onClose={() => setPanel(null)} />
      )}
    </div>
  )
}
