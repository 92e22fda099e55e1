// The editor page: title, the co-edited Markdown with remote carets, the preview, the people
// present, the connection state, the history and comments panels, attachments; read-only below
// editor (a commenter still comments).
import { useEffect, useRef, useState } from 'preact/hooks'
import type { EditorProps } from '../App'
import { api } from '../api/client'
import { atLeast, type Thread } from '../api/types'
import { Link } from '../components/Link'
import { messageOf } from '../components/errors'
import { anchorOf } from '../editor/anchors'
import { useCall } from '../editor/CallBar'
import { type CollabState, CollabSession } from '../editor/collab'
import { createEditor, type Editor as CodeEditor } from '../editor/codemirror'
import type { Draft } from '../editor/Comments'
import { useComments } from '../editor/comments'
import { EditorHead, EditorPanels, type Panel, useCommentLink, useEditorDocument } from '../editor/EditorHead'
import type { Person } from '../editor/People'
import { PresenceSocket } from '../editor/presence'
import { renderPreview } from '../editor/preview'

export function Editor (props: EditorProps) {
  const { documentId, shell } = props
  const loaded = useEditorDocument(documentId, shell)
  const { doc, role, error, setError } = loaded
  const [state, setState] = useState<CollabState | null>(null)
  const [people, setPeople] = useState<Person[]>([])
  const [preview, setPreview] = useState(true)
  const [panel, setPanel] = useState<Panel | null>(null)
  const [draft, setDraft] = useState<Draft | null>(null)
  const [live, setLive] = useState<{ collab: CollabSession, presence: PresenceSocket, editor: CodeEditor } | null>(null)
  const [uploading, setUploading] = useState(0)
  const [sharing, setSharing] = useState(false)
  const host = useRef<HTMLDivElement>(null)
  const previewBox = useRef<HTMLDivElement>(null)
  const editor = useRef<CodeEditor | null>(null)
  const session = useRef<CollabSession | null>(null)
  const canWrite = atLeast(role, 'editor')
  const comments = useComments(documentId, live?.collab.doc ?? null, live?.presence ?? null, live?.editor ?? null)
  const call = useCall(documentId, live?.presence ?? null)

  // The live session starts at once, beside the document's requests, read-only until the role is
  // known: a viewer never gets a writable editor, and nobody waits for REST to see the text.
  const workspaceId = useRef<string | null>(null)
  workspaceId.current = doc?.workspace_id ?? null
  useEffect(() => {
    if (!host.current) return
    const collab = new CollabSession(documentId, shell.user)
    const presence = new PresenceSocket(documentId)
    session.current = collab
    const unsubscribes = [collab.subscribe(setState), loaded.follow(collab, presence, setPeople)]
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

  useCommentLink(comments, (thread) => { setPanel('comments'); jump(thread) })

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

  if (error && !doc) return <main class="page"><p class="error" role="alert">{error}</p><Link href="/">Back to your documents</Link></main>

  return (
    <div class={panel ? 'editor-page with-panel' : 'editor-page'}>
      <main class="editor-main" aria-busy={role === undefined}>
        <EditorHead loaded={loaded} state={state} people={people} call={call} panel={panel} onPanel={setPanel}
          onShare={() => setSharing(true)} onComment={startComment}
          status={uploading > 0 && <span class="muted small" role="status">Uploading…</span>}
          tools={<button type="button" aria-pressed={preview} onClick={() => setPreview(!preview)}>Preview</button>} />
        <div class={preview ? 'panes split' : 'panes'}>
          <div class="pane editor-pane" ref={host} data-testid="editor" />
          <div class="pane preview markdown" ref={previewBox} hidden={!preview} aria-label="Preview" role="region" data-testid="preview" />
        </div>
      </main>
      <EditorPanels documentId={documentId} shell={shell} loaded={loaded} panel={panel} onPanel={setPanel}
        sharing={sharing} onSharing={setSharing} comments={comments} draft={draft} onDraftDone={() => setDraft(null)} onJump={jump} />
    </div>
  )
}
