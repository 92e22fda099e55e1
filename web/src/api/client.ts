// The typed API client. The access token lives in memory only; the refresh token is an HttpOnly
// cookie (cookie mode of the auth routes) that this code never sees. A 401 triggers one silent
// refresh; when that fails too, `onSignedOut` listeners bring the login back over the page.
import type {
  AccessToken, Comment, Diff, DocumentFormat, DocumentFull, DocumentMember, DocumentMeta, DocumentRole,
  FileOut, IceServers, Member, NewAnchor, Notification, NotificationSettings, Page, Providers, Role,
  SearchHit, Sessions, SharedDocument, TagCount, Thread, User, Version, VersionFull, Visibility, Webhook, WebhookCreated,
  WebhookDelivery, WebhookEvent, Workspace
} from './types'

export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) { super(message) }
}

type Listener = () => void

/** Where the sockets live: the page's own host, ws or wss as the page. */
export const socketBase = (): string => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`

let accessToken: string | null = null
let refreshTimer: ReturnType<typeof setTimeout> | undefined
const signedOut = new Set<Listener>()
const tokenChanged = new Set<Listener>()

export const auth = {
  get token (): string | null { return accessToken },
  onSignedOut (listener: Listener): () => void { signedOut.add(listener); return () => signedOut.delete(listener) },
  onToken (listener: Listener): () => void { tokenChanged.add(listener); return () => tokenChanged.delete(listener) },
  /** The session is over (a refresh failed): bring the sign-in back over the page. */
  ended (): void { signedOut.forEach((listener) => listener()) }
}

function setToken (answer: AccessToken | null): void {
  accessToken = answer?.access_token ?? null
  clearTimeout(refreshTimer)
  if (answer) {
    // Renew a minute before expiry (or at half-life for short tokens), without a request failing first.
    const lead = Math.min(60, answer.expires_in / 2)
    refreshTimer = setTimeout(() => { void refresh() }, (answer.expires_in - lead) * 1000)
  }
  tokenChanged.forEach((listener) => listener())
}

async function errorOf (response: Response): Promise<ApiError> {
  let code = 'http_error'
  let detail = response.statusText
  try {
    const body = await response.json() as { code?: string, detail?: string }
    code = body.code ?? code
    detail = body.detail ?? detail
  } catch { /* not JSON */ }
  return new ApiError(response.status, code, detail)
}

let refreshing: Promise<boolean> | null = null

/** Swap the refresh cookie for a new access token; tabs take turns so none presents a used cookie. */
export function refresh (): Promise<boolean> {
  refreshing ??= (async () => {
    const attempt = async (): Promise<boolean> => {
      const response = await fetch('/api/v1/auth/refresh?cookie=true', { method: 'POST', credentials: 'same-origin' })
      if (!response.ok) { setToken(null); return false }
      setToken(await response.json() as AccessToken)
      return true
    }
    try {
      return navigator.locks ? await navigator.locks.request('cowrite-refresh', attempt) : await attempt()
    } catch {
      return false
    } finally {
      refreshing = null
    }
  })()
  return refreshing
}

export async function request<T> (method: string, path: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = {}
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`
  let payload: BodyInit | undefined
  if (body instanceof FormData) payload = body
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body) }
  const response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' })
  if (response.status === 401 && !retried && !path.startsWith('/api/v1/auth/')) {
    if (await refresh()) return request<T>(method, path, body, true)
    auth.ended()
  }
  if (!response.ok) throw await errorOf(response)
  if (response.status === 204) return undefined as T
  return await response.json() as T
}

/** A file's bytes as a blob URL: file content needs the bearer token, so <img src> cannot fetch it. */
export async function fileBlobUrl (fileId: string): Promise<string> {
  const get = (): Promise<Response> => fetch(`/api/v1/files/${fileId}/content`, {
    headers: accessToken ? { Authorization: `Bearer ${accessToken}` } : {}
  })
  let response = await get()
  if (response.status === 401 && await refresh()) response = await get()
  if (!response.ok) throw await errorOf(response)
  return URL.createObjectURL(await response.blob())
}

const q = (params: Record<string, string | number | boolean | undefined | null>): string => {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  const text = search.toString()
  return text ? `?${text}` : ''
}

export const api = {
  async login (email: string, password: string): Promise<void> {
    const response = await fetch('/api/v1/auth/login?cookie=true', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }), credentials: 'same-origin'
    })
    if (!response.ok) throw await errorOf(response)
    setToken(await response.json() as AccessToken)
  },
  providers: () => request<Providers>('GET', '/api/v1/auth/providers'),
  /** Trade single sign-on's one-time code for a session, as a password sign-in gives. */
  async oidcExchange (code: string): Promise<void> {
    const response = await fetch('/api/v1/auth/oidc/exchange?cookie=true', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }), credentials: 'same-origin'
    })
    if (!response.ok) throw await errorOf(response)
    setToken(await response.json() as AccessToken)
  },
  register: (email: string, password: string, full_name: string) =>
    request<User>('POST', '/api/v1/auth/register', { email, password, full_name }),
  async logout (): Promise<void> {
    await fetch('/api/v1/auth/logout?cookie=true', { method: 'POST', credentials: 'same-origin' })
    setToken(null)
  },
  me: () => request<User>('GET', '/api/v1/users/me'),
  updateMe: (full_name: string) => request<User>('PATCH', '/api/v1/users/me', { full_name }),
  changePassword: (current_password: string, new_password: string) =>
    request<void>('POST', '/api/v1/users/me/password', { current_password, new_password }),
  sessions: () => request<Sessions>('GET', '/api/v1/users/me/sessions'),
  revokeSession: (id: string) => request<void>('DELETE', `/api/v1/users/me/sessions/${id}`),

  workspaces: () => request<Page<Workspace>>('GET', '/api/v1/workspaces?limit=200'),
  workspace: (id: string) => request<Workspace>('GET', `/api/v1/workspaces/${id}`),
  createWorkspace: (name: string) => request<Workspace>('POST', '/api/v1/workspaces', { name }),
  renameWorkspace: (id: string, name: string) => request<Workspace>('PATCH', `/api/v1/workspaces/${id}`, { name }),
  members: (id: string) => request<Member[]>('GET', `/api/v1/workspaces/${id}/members?limit=200`),
  invite: (id: string, email: string, role: Role) => request<Member>('POST', `/api/v1/workspaces/${id}/members`, { email, role }),
  setRole: (id: string, userId: string, role: Role) => request<Member>('PATCH', `/api/v1/workspaces/${id}/members/${userId}`, { role }),
  removeMember: (id: string, userId: string) => request<void>('DELETE', `/api/v1/workspaces/${id}/members/${userId}`),

  documents: (workspaceId: string, opts: { tag?: string, trashed?: boolean }) =>
    request<Page<DocumentMeta>>('GET', `/api/v1/workspaces/${workspaceId}/documents${q({ limit: 200, tag: opts.tag, trashed: opts.trashed })}`),
  tags: (workspaceId: string) => request<TagCount[]>('GET', `/api/v1/workspaces/${workspaceId}/tags`),
  createDocument: (workspaceId: string, title: string, format: DocumentFormat = 'markdown') =>
    request<DocumentFull>('POST', `/api/v1/workspaces/${workspaceId}/documents`, { title, format }),
  document: (id: string) => request<DocumentFull>('GET', `/api/v1/documents/${id}`),
  updateDocument: (id: string, patch: { title?: string, tags?: string[] }) =>
    request<DocumentFull>('PATCH', `/api/v1/documents/${id}`, patch),
  trash: (id: string) => request<void>('DELETE', `/api/v1/documents/${id}`),
  restore: (id: string) => request<DocumentFull>('POST', `/api/v1/documents/${id}/restore`),
  purge: (id: string) => request<void>('DELETE', `/api/v1/documents/${id}?permanent=true`),
  setVisibility: (id: string, visibility: Visibility) => request<DocumentFull>('PATCH', `/api/v1/documents/${id}`, { visibility }),
  sharedWithMe: () => request<Page<SharedDocument>>('GET', '/api/v1/users/me/shared-documents?limit=200'),
  documentMembers: (id: string) => request<DocumentMember[]>('GET', `/api/v1/documents/${id}/members`),
  addDocumentMember: (id: string, email: string, role: DocumentRole) =>
    request<DocumentMember>('POST', `/api/v1/documents/${id}/members`, { email, role }),
  setDocumentRole: (id: string, userId: string, role: DocumentRole) =>
    request<DocumentMember>('PATCH', `/api/v1/documents/${id}/members/${userId}`, { role }),
  removeDocumentMember: (id: string, userId: string) => request<void>('DELETE', `/api/v1/documents/${id}/members/${userId}`),
  search: (query: string, workspaceId: string) =>
    request<{ items: SearchHit[] }>('GET', `/api/v1/search${q({ q: query, workspace_id: workspaceId, limit: 20 })}`),

  versions: (id: string) => request<Page<Version>>('GET', `/api/v1/documents/${id}/versions?limit=100`),
  version: (id: string, n: number) => request<VersionFull>('GET', `/api/v1/documents/${id}/versions/${n}`),
  snapshot: (id: string, label: string | null) => request<Version>('POST', `/api/v1/documents/${id}/versions`, { label }),
  diff: (id: string, n: number) => request<Diff>('GET', `/api/v1/documents/${id}/versions/${n}/diff?against=current`),
  restoreVersion: (id: string, n: number) => request<DocumentFull>('POST', `/api/v1/documents/${id}/versions/${n}/restore`),

  threads: (documentId: string) => request<Page<Thread>>('GET', `/api/v1/documents/${documentId}/comments?status=all&limit=200`),
  comment: (documentId: string, body: string, opts: { anchor?: NewAnchor, parentId?: string }) =>
    request<Comment>('POST', `/api/v1/documents/${documentId}/comments`, { body, anchor: opts.anchor, parent_id: opts.parentId }),
  editComment: (id: string, body: string) => request<Comment>('PATCH', `/api/v1/comments/${id}`, { body }),
  deleteComment: (id: string) => request<void>('DELETE', `/api/v1/comments/${id}`),
  resolve: (id: string, resolved: boolean) => request<Comment>('POST', `/api/v1/comments/${id}/${resolved ? 'resolve' : 'reopen'}`),
  react: (id: string, emoji: string, on: boolean) =>
    request<Comment>(on ? 'PUT' : 'DELETE', `/api/v1/comments/${id}/reactions/${encodeURIComponent(emoji)}`),

  notifications: () => request<Page<Notification>>('GET', '/api/v1/notifications?limit=30'),
  unreadCount: () => request<{ count: number }>('GET', '/api/v1/notifications/unread-count'),
  markRead: (id: string) => request<Notification>('POST', `/api/v1/notifications/${id}/read`),
  markAllRead: () => request<{ updated: number }>('POST', '/api/v1/notifications/read-all', {}),
  notificationSettings: () => request<NotificationSettings>('GET', '/api/v1/users/me/notification-settings'),
  saveNotificationSettings: (settings: NotificationSettings) =>
    request<NotificationSettings>('PATCH', '/api/v1/users/me/notification-settings', settings),

  webhooks: (workspaceId: string) => request<Webhook[]>('GET', `/api/v1/workspaces/${workspaceId}/webhooks`),
  addWebhook: (workspaceId: string, url: string, events: WebhookEvent[]) =>
    request<WebhookCreated>('POST', `/api/v1/workspaces/${workspaceId}/webhooks`, { url, events }),
  updateWebhook: (id: string, patch: { url?: string, events?: WebhookEvent[], active?: boolean }) =>
    request<Webhook>('PATCH', `/api/v1/webhooks/${id}`, patch),
  deleteWebhook: (id: string) => request<void>('DELETE', `/api/v1/webhooks/${id}`),
  webhookDeliveries: (id: string) => request<WebhookDelivery[]>('GET', `/api/v1/webhooks/${id}/deliveries`),
  testWebhook: (id: string) => request<WebhookDelivery>('POST', `/api/v1/webhooks/${id}/test`),
  iceServers: () => request<IceServers>('GET', '/api/v1/rtc/ice-servers'),

  upload (workspaceId: string, documentId: string, file: File): Promise<FileOut> {
    const form = new FormData()
    form.set('file', file)
    form.set('document_id', documentId)
    return request<FileOut>('POST', `/api/v1/workspaces/${workspaceId}/files`, form)
  }
}
