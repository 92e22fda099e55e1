// The editor page of a rich-text document: the head both editors share (title, connection,
// people, call, comments, history, sharing and access), a formatting toolbar, and the Tiptap
// editor over the shared fragment with remote carets (comment threads anchored in the text,
// highlighted in the editor). Its own chunk: only rich documents load Tiptap and ProseMirror.
import { useEffect, useRef, useState } from 'preact/hooks'
import type { EditorProps } from '../App'
import { atLeast, type Thread } from '../api/types'
import { Link } from '../components/Link'
import { useCall } from '../editor/CallBar'
import { type CollabState, CollabSession } from '../editor/collab'
import type { Draft } from '../editor/Comments'
import { useComments } from '../editor/comments'
import { EditorHead, EditorPanels, type Panel, useCommentLink, useEditorDocument } from '../editor/EditorHead'
import type { Person } from '../editor/People'
import { PresenceSocket } from '../editor/presence'
import { type CaretUser, createRichEditor, type RichEditor as Rich } from '../editor/tiptap'

type Chain = ReturnType<Rich['tiptap']['chain']>

interface Tool {
  label: string
  title: string
  /** What `isActive` asks about, when the tool is a toggle. */
  active?: [string, Record<string, unknown>?]
  run: (chain: Chain) => Chain
}

const TOOLS: Tool[][] = [
  [
    { label: 'B', title: 'Bold', active: ['bold'], run: (c) => c.toggleBold() },
    { label: 'I', title: 'Italic', active: ['italic'], run: (c) => c.toggleItalic() },
    { label: 'S', title: 'Strikethrough', active: ['strike'], run: (c) => c.toggleStrike() },
    { label: 'U', title: 'Underline', active: ['underline'], run: (c) => c.toggleUnderline() },
    { label: '</>', title: 'Code', active: ['code'], run: (c) => c.toggleCode() }
  ],
  [
    { label: 'H1', title: 'Heading 1', active: ['heading', { level: 1 }], run: (c) => c.toggleHeading({ level: 1 }) },
    { label: 'H2', title: 'Heading 2', active: ['heading', { level: 2 }], run: (c) => c.toggleHeading({ level: 2 }) },
    { label: 'H3', title: 'Heading 3', active: ['heading', { level: 3 }], run: (c) => c.toggleHeading({ level: 3 }) },
    { label: '¶', title: 'Paragraph', active: ['paragraph'], run: (c) => c.setParagraph() }
  ],
  [
    { label: '•', title: 'Bulleted list', active: ['bulletList'], run: (c) => c.toggleBulletList() },
    { label: '1.', title: 'Numbered list', active: ['orderedList'], run: (c) => c.toggleOrderedList() },
    { label: '☐', title: 'Task list', active: ['taskList'], run: (c) => c.toggleTaskList() },
    { label: '❝', title: 'Quote', active: ['blockquote'], run: (c) => c.toggleBlockquote() },
    { label: '{ }', title: 'Code block', active: ['codeBlock'], run: (c) => c.toggleCodeBlock() },
    { label: '―', title: 'Horizontal rule', run: (c) => c.setHorizontalRule() }
  ],
  [
    { label: '↶', title: 'Undo', run: (c) => c.undo() },
    { label: '↷', title: 'Redo', run: (c) => c.redo() }
  ]
]

function Toolbar (props: { editor: Rich | null, disabled: boolean }) {
  const tiptap = props.editor?.tiptap
  return (
    <div class="rich-toolbar" role="toolbar" aria-label="Formatting">
      {TOOLS.map((group, index) => (
        <div class="rich-tool-group" key={index}>
          {group.map((tool) => {
            const pressed = tool.active && tiptap ? tiptap.isActive(tool.active[0], tool.active[1] ?? {}) : undefined
            return (
              <button key={tool.title} type="button" title={tool.title} aria-label={tool.title} aria-pressed={pressed}
                disabled={props.disabled || !tiptap} onMouseDown={(e) => e.preventDefault()}
                onClick={() => { if (tiptap) tool.run(tiptap.chain().focus()).run() }}>
                {tool.label}
              </button>
            )
          })}
        </div>
      ))}
    </div>
  )
}

export function RichEditor (props: EditorProps) {
  const { documentId, shell } = props
  const loaded = useEditorDocument(documentId, shell)
  const { doc, role, error, setError } = loaded
  const [state, setState] = useState<CollabState | null>(null)
  const [people, setPeople] = useState<Person[]>([])
  const [panel, setPanel] = useState<Panel | null>(null)
  const [draft, setDraft] = useState<Draft | null>(null)
  const [sharing, setSharing] = useState(false)
  const [live, setLive] = useState<{ collab: CollabSession, presence: PresenceSocket } | null>(null)
  const [editor, setEditor] = useState<Rich | null>(null)
  const [, redraw] = useState(0)
  const host = useRef<HTMLDivElement>(null)
  const canWrite = atLeast(role, 'editor')
  const comments = useComments(documentId, live?.collab.doc ?? null, live?.presence ?? null, editor)
  const call = useCall(documentId, live?.presence ?? null)

  // As for Markdown: the live session starts at once, read-only until the role is known.
  useEffect(() => {
    if (!host.current) return
    const collab = new CollabSession(documentId, shell.user)
    const presence = new PresenceSocket(documentId)
    const unsubscribes = [collab.subscribe(setState), loaded.follow(collab, presence, setPeople)]
    const user = collab.provider.awareness.getLocalState()?.user as CaretUser
    const created = createRichEditor(host.current, collab.doc, collab.provider.awareness, user, true, {
      onLocalEdit: () => presence.typed(),
      onFocus: (focused) => presence.editing(focused),
      onState: () => redraw((n) => n + 1),
      onThread: (id) => { setPanel('comments'); comments.setActive(id) }
    })
    setEditor(created)
    setLive({ collab, presence })
    return () => {
      unsubscribes.forEach((unsubscribe) => unsubscribe())
      created.destroy()
      setEditor(null)
      setLive(null)
      presence.destroy()
      collab.destroy()
    }
  }, [documentId])

  useEffect(() => { editor?.setReadOnly(!canWrite) }, [canWrite, editor])

  useCommentLink(comments, (thread) => { setPanel('comments'); jump(thread) })

  const jump = (thread: Thread): void => {
    comments.setActive(thread.id)
    const at = comments.located.get(thread.id)
    if (at) editor?.reveal(at.from)
  }

  const startComment = (): void => {
    const range = editor?.selection()
    const anchor = range ? editor?.anchorOf(range.from, range.to) : null
    if (!range || !anchor || !editor) { setError('Select the text to comment on first.'); return }
    setError(null)
    setDraft({ anchor, quote: editor.quote(range.from, range.to) })
    setPanel('comments')
  }

  if (error && !doc) return <main class="page"><p class="error" role="alert">{error}</p><Link href="/">Back to your documents</Link></main>

  return (
    <div class={panel ? 'editor-page with-panel' : 'editor-page'}>
      <main class="editor-main" aria-busy={role === undefined}>
        <EditorHead loaded={loaded} state={state} people={people} call={call} panel={panel} onPanel={setPanel}
          onShare={() => setSharing(true)} onComment={startComment}>
          {canWrite && <Toolbar editor={editor} disabled={!canWrite} />}
        </EditorHead>
        <div class="panes">
          <div class="pane editor-pane rich" ref={host} data-testid="editor" data-format="rich" />
        </div>
      </main>
      <EditorPanels documentId={documentId} shell={shell} loaded={loaded} panel={panel} onPanel={setPanel}
        sharing={sharing} onSharing={setSharing} comments={comments} draft={draft} onDraftDone={() => setDraft(null)} onJump={jump} />
    </div>
  )
}
