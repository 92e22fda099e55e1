// The document's comment threads: loaded over REST, kept live from the presence socket's comment
// events, located in the Yjs text as people type, and drawn as highlights in the editor.
import { useEffect, useRef, useState } from 'preact/hooks'
import type * as Y from 'yjs'
import { api } from '../api/client'
import type { Anchor, Comment, Thread } from '../api/types'
import { isOrphaned, type Located, locate } from './anchors'
import type { Highlight } from './highlights'
import type { PresenceSocket, ServerEvent } from './presence'

const COMMENT_EVENTS = new Set(['comment_created', 'comment_updated', 'comment_deleted', 'thread_resolved', 'thread_reopened', 'reaction_changed'])

/** An event's `reactions[].me` is about whoever acted: keep this person's own flags. */
function keepMine (next: Comment, previous: Comment | undefined): Comment {
  const mine = new Set((previous?.reactions ?? []).filter((r) => r.me).map((r) => r.emoji))
  return { ...next, reactions: next.reactions.map((r) => ({ ...r, me: mine.has(r.emoji) })) }
}

/** One comment changed (an answer to this page's request, or an event from the server). */
export function applyChange (threads: Thread[], kind: string, comment: Comment, fromEvent: boolean): Thread[] {
  const threadIndex = threads.findIndex((t) => t.id === comment.thread_id)
  if (kind === 'comment_created') {
    if (comment.parent_id === null) return threadIndex >= 0 ? threads : [...threads, { ...comment, replies: [] }]
    if (threadIndex < 0) return threads
    const thread = threads[threadIndex]
    if (thread.replies.some((r) => r.id === comment.id)) return threads
    return threads.map((t, i) => i === threadIndex ? { ...t, replies: [...t.replies, comment] } : t)
  }
  if (threadIndex < 0) return threads
  const thread = threads[threadIndex]
  if (kind === 'comment_deleted') {
    if (comment.parent_id !== null) return threads.map((t, i) => i === threadIndex ? { ...t, replies: t.replies.filter((r) => r.id !== comment.id) } : t)
    if (thread.replies.length === 0) return threads.filter((t) => t.id !== comment.id)
  }
  const replace = (old: Comment): Comment => {
    const next = fromEvent ? keepMine(comment, old) : comment
    return { ...old, ...next }
  }
  if (comment.parent_id === null) return threads.map((t, i) => i === threadIndex ? { ...replace(t), replies: t.replies } : t)
  return threads.map((t, i) => i === threadIndex ? { ...t, replies: t.replies.map((r) => r.id === comment.id ? replace(r) : r) } : t)
}

/** What the comments need of an editor: to draw highlights, and where an anchor stands in its
 *  own positions (by default, the index in the Markdown text). */
export interface CommentsEditor {
  setHighlights: (list: Highlight[], active: string | null) => void
  locate?: (anchor: Anchor) => Located | null
}

export interface CommentsState {
  threads: Thread[]
  located: Map<string, Located | null>
  error: string | null
  active: string | null
  setActive: (id: string | null) => void
  change: (kind: string, comment: Comment) => void
}

export function useComments (documentId: string, doc: Y.Doc | null, presence: PresenceSocket | null, editor: CommentsEditor | null): CommentsState {
  const [threads, setThreads] = useState<Thread[]>([])
  const [located, setLocated] = useState<Map<string, Located | null>>(new Map())
  const [error, setError] = useState<string | null>(null)
  const [active, setActive] = useState<string | null>(null)
  const [moved, setMoved] = useState(0)
  const current = useRef(threads)
  current.current = threads

  const change = (kind: string, comment: Comment, fromEvent = false): void => setThreads((list) => applyChange(list, kind, comment, fromEvent))

  useEffect(() => {
    if (!presence) return
    let loaded = false
    const early: ServerEvent[] = []
    const onEvent = (event: ServerEvent): void => {
      if (event.document_id !== documentId || !COMMENT_EVENTS.has(event.type)) return
      if (!loaded) { early.push(event); return }
      change(event.type, event.comment as Comment, true)
    }
    const stop = presence.onEvent(onEvent)
    void api.threads(documentId).then((page) => {
      setThreads(page.items)
      loaded = true
      early.splice(0).forEach(onEvent)
    }, (problem: Error) => setError(problem.message))
    return stop
  }, [documentId, presence])

  // The text moved: locate the anchors again, a moment later (a burst of keystrokes counts once;
  // the highlights follow each keystroke meanwhile by themselves).
  useEffect(() => {
    if (!doc) return
    let pending: ReturnType<typeof setTimeout> | undefined
    const onUpdate = (): void => { clearTimeout(pending); pending = setTimeout(() => setMoved((n) => n + 1), 30) }
    doc.on('update', onUpdate)
    return () => { clearTimeout(pending); doc.off('update', onUpdate) }
  }, [doc])

  useEffect(() => {
    if (!doc || !editor) return
    const next = new Map<string, Located | null>()
    const find = editor.locate ?? ((anchor: Anchor) => locate(doc, anchor))
    for (const thread of threads) if (thread.anchor) next.set(thread.id, find(thread.anchor))
    setLocated(next)
    const marks = threads
      .filter((t) => t.anchor && !t.resolved_at && !isOrphaned(t.anchor, next.get(t.id)))
      .flatMap((t) => { const at = next.get(t.id); return at ? [{ id: t.id, ...at }] : [] })
    editor.setHighlights(marks, active)
  }, [threads, moved, active, doc, editor])

  return { threads, located, error, active, setActive, change }
}
