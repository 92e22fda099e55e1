// Share links, the anonymous shared page, and personal API tokens.
import { ApiError, request } from './client'

export interface ShareLink {
  id: string
  document_id: string
  token: string | null // only in the answer that made the link
  url: string | null
  expires_at: string | null
  has_password: boolean
  noindex: boolean
  created_by: string | null
  created_at: string
  last_used_at: string | null
  view_count: number
}

export interface SharedDocument { document_id: string, title: string, content: string, format: 'markdown' | 'rich', updated_at: string }

export interface ApiToken { id: string, name: string, scopes: Array<'read' | 'write'>, expires_at: string | null, created_at: string, last_used_at: string | null }
export interface NewApiToken extends ApiToken { token: string }

export const shares = {
  list: (documentId: string) => request<ShareLink[]>('GET', `/api/v1/documents/${documentId}/shares`),
  create: (documentId: string, opts: { password?: string, expires_at?: string }) =>
    request<ShareLink>('POST', `/api/v1/documents/${documentId}/shares`, opts),
  revoke: (shareId: string) => request<void>('DELETE', `/api/v1/shares/${shareId}`),

  tokens: () => request<ApiToken[]>('GET', '/api/v1/users/me/tokens'),
  createToken: (name: string, scopes: Array<'read' | 'write'>, expires_at?: string) =>
    request<NewApiToken>('POST', '/api/v1/users/me/tokens', { name, scopes, expires_at }),
  revokeToken: (id: string) => request<void>('DELETE', `/api/v1/users/me/tokens/${id}`)
}

async function failure (response: Response): Promise<ApiError> {
  let body: { code?: string, detail?: string } = {}
  try { body = await response.json() as typeof body } catch { /* not JSON */ }
  return new ApiError(response.status, body.code ?? 'http_error', body.detail ?? response.statusText)
}

/** The anonymous side: no account, no cookie; a password-protected link takes its unlock token. */
export const shared = {
  async read (token: string, unlocked: string | null): Promise<SharedDocument> {
    const response = await fetch(`/api/v1/shared/${encodeURIComponent(token)}`, {
      headers: unlocked ? { Authorization: `Bearer ${unlocked}` } : {}, credentials: 'omit'
    })
    if (!response.ok) throw await failure(response)
    return await response.json() as SharedDocument
  },
  async unlock (token: string, password: string): Promise<string> {
    const response = await fetch(`/api/v1/shared/${encodeURIComponent(token)}/unlock`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password }), credentials: 'omit'
    })
    if (!response.ok) throw await failure(response)
    return (await response.json() as { access_token: string }).access_token
  }
}
