// The shapes the cowrite API answers (see /openapi.json).
export type Role = 'owner' | 'admin' | 'editor' | 'commenter' | 'viewer'

export interface User { id: string, email: string, full_name: string, created_at: string }
export interface Workspace { id: string, name: string, description: string | null, role: Role, created_at: string }
export interface Member { user_id: string, email: string, full_name: string, role: Role, joined_at: string }
/** A Markdown document is the Y.Text `content`; a rich one Tiptap's Y.XmlFragment `default`. */
export type DocumentFormat = 'markdown' | 'rich'
export interface DocumentMeta {
  id: string
  format: DocumentFormat
  workspace_id: string
  title: string
  tags: string[]
  version: number
  created_by: string | null
  updated_by: string | null
  created_at: string
  updated_at: string
  deleted_at: string | null
  visibility?: Visibility
}
/** A document the person is listed on (their "shared with me" list). */
export interface SharedDocument {
  id: string
  title: string
  format: DocumentFormat
  visibility: Visibility
  workspace_id: string
  workspace_name: string
  role: DocumentRole
  guest: boolean
  shared_at: string
  updated_at: string
}
export interface DocumentFull extends DocumentMeta { content: string, role?: Role }
/** Who sees a document: its whole workspace, or only admins and the people listed on it. */
export type Visibility = 'workspace' | 'restricted'
export type DocumentRole = 'editor' | 'commenter' | 'viewer'
/** Someone listed on a document: a workspace member, or a guest from outside the workspace. */
export interface DocumentMember {
  user_id: string, email: string, full_name: string, role: DocumentRole, guest: boolean,
  workspace_role: Role | null, added_by: string | null, added_at: string
}
export interface Page<T> { items: T[], next_cursor: string | null }
export interface TagCount { name: string, count: number }
export interface SearchHit { document_id: string, workspace_id: string, title: string, snippet: string, score: number }
export interface Version { number: number, title: string, label: string | null, author_id: string | null, source: string, content_size: number, created_at: string, updated_at: string }
export interface VersionFull extends Version { content: string }
export interface Diff { from: number | string, to: number | string, unified: string }
export interface FileOut { id: string, workspace_id: string, document_id: string | null, filename: string, content_type: string, size: number }
export interface LoginInfo { id: string, device_type: string, user_agent: string, client_address: string, created_at: string, last_seen_at: string, current: boolean }
export interface Sessions { logins: LoginInfo[] }
export interface AccessToken { access_token: string, expires_in: number }

export interface Author { id: string, full_name: string }
export interface Anchor { from: number | null, to: number | null, quote: string, orphaned: boolean, yjs_from: string, yjs_to: string }
export interface Reaction { emoji: string, count: number, me: boolean }
export interface Comment {
  id: string
  document_id: string
  thread_id: string
  parent_id: string | null
  author: Author | null
  body: string
  anchor: Anchor | null
  resolved_at: string | null
  resolved_by: string | null
  reactions: Reaction[]
  created_at: string
  updated_at: string
  edited_at: string | null
  deleted_at: string | null
}
export interface Thread extends Comment { replies: Comment[] }
export interface NewAnchor { yjs_from: string, yjs_to: string }
export type NotificationKind = 'mention' | 'reply' | 'comment' | 'document_updated' | 'added_to_workspace' | 'role_changed' | 'document_shared' | 'webhook_turned_off'
export interface Notification {
  id: string
  kind: NotificationKind
  actor: Author | null
  workspace_id: string
  document_id: string | null
  comment_id: string | null
  title: string
  excerpt: string
  created_at: string
  read_at: string | null
}
export interface NotificationSettings { email: Partial<Record<NotificationKind, boolean>>, email_delay_minutes: number }

export const ROLE_RANK: Record<Role, number> = { viewer: 0, commenter: 1, editor: 2, admin: 3, owner: 4 }
export const atLeast = (role: Role | undefined, wanted: Role): boolean =>
  role !== undefined && ROLE_RANK[role] >= ROLE_RANK[wanted]

export interface Providers { password: boolean, oidc: { name: string } | null }
export const WEBHOOK_EVENTS = [
  'document.created', 'document.updated', 'document.deleted', 'document.restored',
  'comment.created', 'comment.resolved', 'member.added', 'member.removed', 'share.created'
] as const
export type WebhookEvent = typeof WEBHOOK_EVENTS[number]
export interface Webhook {
  id: string
  workspace_id: string
  url: string
  events: WebhookEvent[]
  active: boolean
  disabled_reason: string | null
  created_at: string
  updated_at: string
}
export interface WebhookCreated extends Webhook { secret: string }
export interface WebhookDelivery {
  id: string
  event: string
  status: 'pending' | 'delivered' | 'failed'
  status_code: number | null
  attempt: number
  error: string | null
  created_at: string
  delivered_at: string | null
  next_attempt_at: string | null
}
export interface IceServers { ice_servers: Array<{ urls: string[], username?: string, credential?: string }>, ttl: number }
