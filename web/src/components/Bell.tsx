// The bell in the header: the unread count, live from the person's own /ws pushes, and a panel of
// notifications; a click opens the document (at the comment) and marks it read.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api } from '../api/client'
import type { Notification } from '../api/types'
import { PresenceSocket, onTabSocket, type ServerEvent } from '../editor/presence'
import { navigate } from '../router'
import { messageOf } from './errors'

const WHAT: Record<Notification['kind'], string> = {
  mention: 'mentioned you',
  reply: 'replied',
  comment: 'commented',
  document_updated: 'edited',
  added_to_workspace: 'added you to a workspace',
  role_changed: 'changed your role',
  document_shared: 'shared a document with you',
  webhook_turned_off: 'turned off a webhook'
}

/** Excerpts quote comment bodies: a mention reads as its name. */
const readable = (text: string): string => text.replace(/@\[([^\]]*)\]\(user:[0-9a-f-]+\)/g, '@$1')

const targetOf = (n: Notification): string | null =>
  n.kind === 'webhook_turned_off' ? `/w/${n.workspace_id}/webhooks` : n.document_id ? `/d/${n.document_id}${n.comment_id ? `?comment=${n.comment_id}` : ''}` : `/w/${n.workspace_id}`

export function Bell () {
  const [count, setCount] = useState(0)
  const [open, setOpen] = useState(false)
  const [items, setItems] = useState<Notification[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const box = useRef<HTMLDivElement>(null)

  useEffect(() => {
    const hear = (event: ServerEvent): void => {
      if (event.type === 'unread_count') setCount(event.count as number)
      else if (event.type === 'notification') {
        const fresh = event.notification as Notification
        setItems((list) => list && !list.some((n) => n.id === fresh.id) ? [fresh, ...list] : list)
      }
    }
    // Listen on the open document's socket when there is one, else on a socket of our own; a
    // switch asks for the count again, for what arrived while neither listened.
    let stopListening = (): void => {}
    let own: PresenceSocket | null = null
    const stopFollowing = onTabSocket((page) => {
      stopListening()
      own?.destroy()
      own = page ? null : new PresenceSocket(null)
      stopListening = (page ?? own as PresenceSocket).onEvent(hear)
      void api.unreadCount().then((answer) => setCount(answer.count), () => {})
    })
    return () => { stopFollowing(); stopListening(); own?.destroy() }
  }, [])

  useEffect(() => {
    if (!open) return
    void api.notifications().then((page) => setItems(page.items), (problem: unknown) => setError(messageOf(problem)))
    const away = (event: MouseEvent): void => { if (!box.current?.contains(event.target as Node)) setOpen(false) }
    const escape = (event: KeyboardEvent): void => { if (event.key === 'Escape') setOpen(false) }
    document.addEventListener('mousedown', away)
    document.addEventListener('keydown', escape)
    return () => { document.removeEventListener('mousedown', away); document.removeEventListener('keydown', escape) }
  }, [open])

  const markRead = (n: Notification): void => {
    if (n.read_at) return
    setItems((list) => list?.map((m) => m.id === n.id ? { ...m, read_at: new Date().toISOString() } : m) ?? null)
    void api.markRead(n.id).catch((problem: unknown) => setError(messageOf(problem)))
  }
  const follow = (n: Notification): void => {
    markRead(n)
    setOpen(false)
    const target = targetOf(n)
    if (target) navigate(target)
  }
  const readAll = async (): Promise<void> => {
    try {
      await api.markAllRead()
      setItems((list) => list?.map((m) => ({ ...m, read_at: m.read_at ?? new Date().toISOString() })) ?? null)
    } catch (problem) { setError(messageOf(problem)) }
  }

  return (
    <div class="bell" ref={box}>
      <button type="button" class="bell-button" data-testid="bell" aria-expanded={open} aria-haspopup="true"
        aria-label={count > 0 ? `Notifications, ${count} unread` : 'Notifications'} onClick={() => setOpen(!open)}>
        <svg class="bell-icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
          <path d="M12 3a6 6 0 0 0-6 6v3.6L4.3 16h15.4L18 12.6V9a6 6 0 0 0-6-6zm-2.5 15a2.5 2.5 0 0 0 5 0z" fill="currentColor" />
        </svg>
        {count > 0 && <span class="bell-count" data-testid="unread-count" aria-hidden="true">{count > 99 ? '99+' : count}</span>}
      </button>
      {open && (
        <div class="bell-panel" role="region" aria-label="Notifications">
          <div class="panel-head">
            <h2>Notifications</h2>
            <button type="button" class="linkish small" onClick={() => { void readAll() }} disabled={count === 0}>Mark all read</button>
          </div>
          {error && <p class="error small" role="alert">{error}</p>}
          {items === null && <p class="muted small">Loading…</p>}
          {items?.length === 0 && <p class="muted small">Nothing yet.</p>}
          <ul class="plain notifications">
            {items?.map((n) => (
              <li key={n.id} class={n.read_at ? 'notification' : 'notification unread'}>
                <button type="button" class="notification-open" onClick={() => follow(n)}>
                  <span><strong>{n.actor?.full_name ?? 'cowrite'}</strong> {WHAT[n.kind]} · {n.title}</span>
                  {n.excerpt && <span class="excerpt">{readable(n.excerpt)}</span>}
                  <span class="muted small">{new Date(n.created_at).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })}</span>
                </button>
                {!n.read_at && <button type="button" class="linkish small" onClick={() => markRead(n)} aria-label={`Mark read: ${n.title}`}>Mark read</button>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  )
}
