// The comments panel beside the editor: a new thread on the selected text, the open threads in
// the order of the text, the orphaned ones (their text is gone) and the resolved ones apart;
// replies, reactions, resolve and reopen, mentions.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api } from '../api/client'
import { atLeast, type Comment, type Member, type NewAnchor, type Role, type Thread, type User } from '../api/types'
import { messageOf } from '../components/errors'
import { isOrphaned } from './anchors'
import type { CommentsState } from './comments'
import { MentionInput } from './MentionInput'
import { renderComment } from './preview'

export const EMOJI = ['👍', '🎉', '❤️', '👀', '🤔']

export interface Draft { anchor: NewAnchor, quote: string }

interface PanelProps {
  documentId: string
  comments: CommentsState
  me: User
  role: Role | undefined
  members: Member[]
  draft: Draft | null
  onDraftDone: () => void
  onJump: (thread: Thread) => void
  onClose: () => void
}

function Body (props: { source: string }) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => { if (box.current) renderComment(box.current, props.source) }, [props.source])
  return <div class="comment-body markdown" ref={box} />
}

const when = (iso: string): string => new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })

function CommentView (props: { comment: Comment, panel: PanelProps, run: (action: () => Promise<void>) => void }) {
  const { comment, panel, run } = props
  const { me, role, comments } = panel
  const canReact = atLeast(role, 'commenter') && !comment.deleted_at
  const canDelete = !comment.deleted_at && (comment.author?.id === me.id || atLeast(role, 'admin'))
  const canEdit = !comment.deleted_at && comment.author?.id === me.id
  const [editing, setEditing] = useState<string | null>(null)
  const react = (emoji: string, on: boolean): void =>
    run(async () => comments.change('reaction_changed', await api.react(comment.id, emoji, on)))
  return (
    <article class="comment" data-comment={comment.id}>
      <header class="comment-head">
        <strong>{comment.author?.full_name ?? 'Someone'}</strong>
        <span class="muted small">{when(comment.created_at)}{comment.edited_at ? ' · edited' : ''}</span>
        {canEdit && editing === null && (
          <button type="button" class="linkish small" aria-label="Edit comment" onClick={() => setEditing(comment.body)}>Edit</button>
        )}
        {canDelete && (
          <button type="button" class="linkish small" aria-label="Delete comment"
            onClick={() => run(async () => { await api.deleteComment(comment.id); comments.change('comment_deleted', { ...comment, deleted_at: new Date().toISOString(), body: '' }) })}>
            Delete
          </button>
        )}
      </header>
      {editing !== null
        ? (
          <form class="edit" onSubmit={(e) => {
            e.preventDefault()
            if (editing.trim()) run(async () => { comments.change('comment_updated', await api.editComment(comment.id, editing)); setEditing(null) })
          }}>
            <MentionInput label="Edit comment text" value={editing} onInput={setEditing} members={panel.members} me={me.id} />
            <div class="row">
              <button class="primary" type="submit" disabled={!editing.trim()}>Save</button>
              <button type="button" onClick={() => setEditing(null)}>Cancel</button>
            </div>
          </form>
          )
        : comment.deleted_at ? <p class="muted small">This comment was deleted.</p> : <Body source={comment.body} />}
      {!comment.deleted_at && (
        <div class="reactions" role="group" aria-label="Reactions">
          {EMOJI.map((emoji) => {
            const reaction = comment.reactions.find((r) => r.emoji === emoji)
            if (!reaction && !canReact) return null
            const mine = reaction?.me ?? false
            return (
              <button key={emoji} type="button" class={reaction ? 'reaction used' : 'reaction'} aria-pressed={mine} disabled={!canReact}
                aria-label={`${emoji} ${reaction?.count ?? 0}`} onClick={() => react(emoji, !mine)}>
                {emoji}{reaction ? ` ${reaction.count}` : ''}
              </button>
            )
          })}
        </div>
      )}
    </article>
  )
}

function ThreadCard (props: { thread: Thread, panel: PanelProps, orphaned: boolean }) {
  const { thread, panel } = props
  const { comments, me, role } = panel
  const [reply, setReply] = useState('')
  const [error, setError] = useState<string | null>(null)
  const card = useRef<HTMLElement>(null)
  const active = comments.active === thread.id
  useEffect(() => { if (active) card.current?.scrollIntoView?.({ block: 'nearest' }) }, [active])
  const run = (action: () => Promise<void>): void => {
    setError(null)
    void action().catch((problem: unknown) => setError(messageOf(problem)))
  }
  const canComment = atLeast(role, 'commenter')
  const canResolve = thread.author?.id === me.id || atLeast(role, 'editor')
  const resolved = thread.resolved_at !== null
  return (
    <section ref={card} class={active ? 'thread active' : 'thread'} data-thread={thread.id} onClick={() => panel.onJump(thread)}>
      {thread.anchor && <blockquote class={props.orphaned ? 'quote orphaned' : 'quote'}>{thread.anchor.quote}</blockquote>}
      <CommentView comment={thread} panel={panel} run={run} />
      {thread.replies.map((r) => <CommentView key={r.id} comment={r} panel={panel} run={run} />)}
      {error && <p class="error small" role="alert">{error}</p>}
      <div class="thread-actions" onClick={(e) => e.stopPropagation()}>
        {canComment && !resolved && (
          <form class="reply" onSubmit={(e) => {
            e.preventDefault()
            if (!reply.trim()) return
            run(async () => { comments.change('comment_created', await api.comment(panel.documentId, reply, { parentId: thread.id })); setReply('') })
          }}>
            <MentionInput label="Reply" placeholder="Reply…" value={reply} onInput={setReply} members={panel.members} me={me.id} />
            <button type="submit" disabled={!reply.trim()}>Reply</button>
          </form>
        )}
        {canResolve && (
          <button type="button" onClick={() => run(async () => comments.change(resolved ? 'thread_reopened' : 'thread_resolved', await api.resolve(thread.id, !resolved)))}>
            {resolved ? 'Reopen' : 'Resolve'}
          </button>
        )}
      </div>
    </section>
  )
}

function NewThread (props: { panel: PanelProps, draft: Draft }) {
  const { panel, draft } = props
  const [body, setBody] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const post = async (): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      const created = await api.comment(panel.documentId, body, { anchor: draft.anchor })
      panel.comments.change('comment_created', created)
      panel.comments.setActive(created.id)
      panel.onDraftDone()
    } catch (problem) {
      setError(messageOf(problem))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="thread new-thread" onSubmit={(e) => { e.preventDefault(); if (body.trim()) void post() }}>
      <blockquote class="quote">{draft.quote}</blockquote>
      <MentionInput label="New comment" placeholder="Comment… (@ to mention)" value={body} onInput={setBody} members={panel.members} me={panel.me.id} />
      {error && <p class="error small" role="alert">{error}</p>}
      <div class="row">
        <button class="primary" type="submit" disabled={busy || !body.trim()}>Post comment</button>
        <button type="button" onClick={panel.onDraftDone}>Cancel</button>
      </div>
    </form>
  )
}

export function CommentsPanel (props: PanelProps) {
  const { comments } = props
  const orphaned = (t: Thread): boolean => t.anchor !== null && isOrphaned(t.anchor, comments.located.get(t.id))
  const position = (t: Thread): number => comments.located.get(t.id)?.from ?? Number.MAX_SAFE_INTEGER
  const open = comments.threads.filter((t) => !t.resolved_at && !orphaned(t)).sort((a, b) => position(a) - position(b))
  const lost = comments.threads.filter((t) => !t.resolved_at && orphaned(t))
  const resolved = comments.threads.filter((t) => t.resolved_at)
  return (
    <aside class="panel comments" aria-label="Comments">
      <div class="panel-head">
        <h2>Comments</h2>
        <button type="button" aria-label="Close comments" onClick={props.onClose}>×</button>
      </div>
      {comments.error && <p class="error" role="alert">{comments.error}</p>}
      {props.draft && <NewThread panel={props} draft={props.draft} />}
      {open.length === 0 && !props.draft && <p class="muted small">No open comments. Select text and choose “Comment”.</p>}
      {open.map((t) => <ThreadCard key={t.id} thread={t} panel={props} orphaned={false} />)}
      {lost.length > 0 && (
        <section class="comment-group" aria-label="Orphaned comments">
          <h3>Orphaned <span class="muted small">(their text was deleted)</span></h3>
          {lost.map((t) => <ThreadCard key={t.id} thread={t} panel={props} orphaned />)}
        </section>
      )}
      {resolved.length > 0 && (
        <details class="comment-group">
          <summary>Resolved ({resolved.length})</summary>
          {resolved.map((t) => <ThreadCard key={t.id} thread={t} panel={props} orphaned={orphaned(t)} />)}
        </details>
      )}
    </aside>
  )
}
