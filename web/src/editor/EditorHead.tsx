// What both editor pages share around their editor: the document as loaded (with the caller's
// role, kept current while the page is open), the head (the way back, the title, the connection,
// the people present and the call, the buttons for comments, history and sharing, the alerts
// and the call's tiles), the side panels and the Share dialog (access, then links) those buttons
// open, and the
// comment thread a notification's link points at.
import type { ComponentChildren } from 'preact'
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import type { Shell } from '../App'
import { api } from '../api/client'
import { atLeast, type DocumentFull, type Member, type Role, type Thread } from '../api/types'
import { AccessPanel } from '../components/AccessPanel'
import { Link } from '../components/Link'
import { messageOf } from '../components/errors'
import { ShareDialog } from '../components/ShareDialog'
import { useSearch } from '../router'
import { type Call, CallBar, CallTiles } from './CallBar'
import type { CollabSession, CollabState } from './collab'
import { CommentsPanel, type Draft } from './Comments'
import type { CommentsState } from './comments'
import { ConnectionBadge, closedText } from './Connection'
import { History } from './History'
import { mergePeople, People, type Person } from './People'
import type { PresenceSocket } from './presence'

export type Panel = 'history' | 'comments'

export interface EditorDocument {
  doc: DocumentFull | null
  setDoc: (doc: DocumentFull) => void
  /** The caller's role on this document (a listed person's, a guest's), else the workspace's. */
  role: Role | undefined
  members: Member[]
  error: string | null
  setError: (error: string | null) => void
  /** Follow the people present and role changes over the page's live session; returns the undo. */
  follow: (collab: CollabSession, presence: PresenceSocket, onPeople: (people: Person[]) => void) => () => void
}

export function useEditorDocument (documentId: string, shell: Shell): EditorDocument {
  const [doc, setDoc] = useState<DocumentFull | null>(null)
  const [role, setRole] = useState<Role | undefined>()
  const [members, setMembers] = useState<Member[]>([])
  const [error, setError] = useState<string | null>(null)
  const workspaceId = useRef<string | null>(null)
  workspaceId.current = doc?.workspace_id ?? null

  useEffect(() => {
    void (async () => {
      try {
        const loaded = await api.document(documentId)
        setDoc(loaded)
        const known = shell.workspaces.find((w) => w.id === loaded.workspace_id)
        setRole(loaded.role ?? (known ? known.role : (await api.workspace(loaded.workspace_id)).role))
        setMembers(await api.members(loaded.workspace_id).catch(() => []))
      } catch (problem) { setError(messageOf(problem)) }
    })()
  }, [documentId])

  const follow = (collab: CollabSession, presence: PresenceSocket, onPeople: (people: Person[]) => void): (() => void) => {
    let peers: Parameters<typeof mergePeople>[1] = []
    const refresh = (): void => onPeople(mergePeople(collab.provider.awareness, peers, shell.user.id))
    const unsubscribes = [
      presence.subscribe((list) => { peers = list; refresh() }),
      presence.onRole((changedIn, next) => {
        if (changedIn === documentId) setRole(next)
        // A workspace role counts here unless a document role decides: read it again.
        else if (changedIn === workspaceId.current) void api.document(documentId).then((loaded) => setRole(loaded.role ?? next), () => setRole(next))
      })
    ]
    collab.provider.awareness.on('change', refresh)
    return () => {
      unsubscribes.forEach((unsubscribe) => unsubscribe())
      collab.provider.awareness.off('change', refresh)
    }
  }

  return { doc, setDoc, role, members, error, setError, follow }
}

/** Opened from a notification (`?comment=<id>`): open that comment's thread once it is loaded. */
export function useCommentLink (comments: CommentsState, open: (thread: Thread) => void): void {
  const wanted = new URLSearchParams(useSearch()).get('comment')
  useEffect(() => {
    if (!wanted) return
    const thread = comments.threads.find((t) => t.id === wanted || t.replies.some((r) => r.id === wanted))
    if (thread) open(thread)
  }, [wanted, comments.threads.length > 0])
}

export interface EditorHeadProps {
  loaded: EditorDocument
  state: CollabState | null
  people: Person[]
  call: Call
  panel: Panel | null
  onPanel: (panel: Panel | null) => void
  onShare: () => void
  /** Start a comment on the selection (shown to commenters and above). */
  onComment: () => void
  /** What one editor adds beside the people (an upload in progress). */
  status?: ComponentChildren
  /** What one editor adds before the panel buttons (the Markdown preview toggle). */
  tools?: ComponentChildren
  /** What one editor adds under the buttons (the rich-text formatting toolbar). */
  children?: ComponentChildren
}

export function EditorHead (props: EditorHeadProps) {
  const { loaded, panel, onPanel } = props
  const { doc, role, error } = loaded
  const [title, setTitle] = useState('')
  // Before the page can take a keystroke: a title typed as the document arrives is not undone.
  useLayoutEffect(() => { if (doc) setTitle(doc.title) }, [doc?.title])
  const canWrite = atLeast(role, 'editor')
  const closed = closedText(props.state)
  const toggle = (which: Panel) => () => onPanel(panel === which ? null : which)

  const saveTitle = async (): Promise<void> => {
    if (!doc || title.trim() === doc.title || !title.trim()) return
    try { loaded.setDoc(await api.updateDocument(doc.id, { title: title.trim() })) } catch (problem) { loaded.setError(messageOf(problem)) }
  }

  return (
    <>
      <div class="editor-head">
        {doc && <Link href={`/w/${doc.workspace_id}`} class="back">← Documents</Link>}
        <label class="visually-hidden" for="doc-title">Title</label>
        <input id="doc-title" class="doc-title" value={title} readOnly={!canWrite}
          onInput={(e) => setTitle(e.currentTarget.value)} onBlur={() => { void saveTitle() }}
          onKeyDown={(e) => { if (e.key === 'Enter') (e.currentTarget as HTMLInputElement).blur() }} />
        {props.state && <ConnectionBadge state={props.state} />}
        {!canWrite && role && <span class="badge readonly" data-testid="read-only">Read only</span>}
      </div>
      <div class="editor-tools">
        <People people={props.people} />
        <CallBar call={props.call} />
        {props.status}
        <div class="spacer" />
        {props.tools}
        {atLeast(role, 'commenter') && <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={props.onComment}>Comment</button>}
        <button type="button" aria-pressed={panel === 'comments'} onClick={toggle('comments')}>Comments</button>
        <button type="button" aria-pressed={panel === 'history'} onClick={toggle('history')}>History</button>
        <button type="button" aria-haspopup="dialog" onClick={props.onShare}>Share</button>
      </div>
      {props.children}
      {closed && <p class="error" role="alert">{closed}</p>}
      {error && doc && <p class="error" role="alert">{error}</p>}
      <CallTiles call={props.call} />
    </>
  )
}

export interface EditorPanelsProps {
  documentId: string
  shell: Shell
  loaded: EditorDocument
  panel: Panel | null
  onPanel: (panel: Panel | null) => void
  sharing: boolean
  onSharing: (open: boolean) => void
  comments: CommentsState
  draft: Draft | null
  onDraftDone: () => void
  onJump: (thread: Thread) => void
}

/** The side panel open beside the editor (history or comments) and the Share dialog. */
export function EditorPanels (props: EditorPanelsProps) {
  const { documentId, loaded, panel, onPanel } = props
  const { doc, role } = loaded
  const canWrite = atLeast(role, 'editor')
  const close = (): void => onPanel(null)
  const names = new Map(loaded.members.map((m) => [m.user_id, m.full_name]))
  return (
    <>
      {props.sharing && (
        <ShareDialog documentId={documentId} canShare={canWrite} names={names} onClose={() => props.onSharing(false)}>
          {doc && (
            <AccessPanel documentId={documentId} visibility={doc.visibility ?? 'workspace'} canManage={canWrite} me={props.shell.user.id}
              onVisibility={(visibility) => loaded.setDoc({ ...doc, visibility })} />
          )}
        </ShareDialog>
      )}
      {panel === 'history' && <History documentId={documentId} canWrite={canWrite} onClose={close} />}
      {panel === 'comments' && (
        <CommentsPanel documentId={documentId} comments={props.comments} me={props.shell.user} role={role} members={loaded.members}
          draft={props.draft} onDraftDone={props.onDraftDone} onJump={props.onJump} onClose={close} />
      )}
    </>
  )
}
