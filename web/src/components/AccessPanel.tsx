// Who may open a document and why: restrict it to the people listed on it, list workspace
// members and guests (anyone with an account) by email with a document role, change or remove
// them. Editors of the document manage it; everyone who sees it sees the list. It is the Share
// dialog's first section, above the public links.
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/client'
import type { DocumentMember, DocumentRole, Visibility } from '../api/types'
import { messageOf } from './errors'

const DOCUMENT_ROLES: DocumentRole[] = ['viewer', 'commenter', 'editor']

function why (person: DocumentMember): string {
  return person.guest ? 'Guest, listed on this document' : `Listed on this document (workspace ${person.workspace_role ?? 'member'})`
}

export interface AccessPanelProps {
  documentId: string
  visibility: Visibility
  canManage: boolean
  me: string
  onVisibility: (visibility: Visibility) => void
}

export function AccessPanel (props: AccessPanelProps) {
  const [people, setPeople] = useState<DocumentMember[]>([])
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<DocumentRole>('viewer')
  const [error, setError] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const restricted = props.visibility === 'restricted'

  const load = async (): Promise<void> => {
    try { setPeople(await api.documentMembers(props.documentId)) } catch (problem) { setError(messageOf(problem)) }
  }
  useEffect(() => { void load() }, [props.documentId])

  const run = async (action: () => Promise<unknown>, done?: string): Promise<void> => {
    setError(null); setNotice(null)
    try { await action(); await load(); if (done) setNotice(done) } catch (problem) { setError(messageOf(problem)) }
  }
  const setVisibility = (next: Visibility): Promise<void> => run(async () => {
    const saved = await api.setVisibility(props.documentId, next)
    props.onVisibility(saved.visibility ?? next)
  }, next === 'restricted' ? 'Only the people listed below (and workspace admins) can open it now.' : 'Everyone in the workspace can open it now.')
  const add = (): Promise<void> => run(async () => {
    const added = await api.addDocumentMember(props.documentId, email.trim(), role)
    setEmail('')
    setNotice(`${added.full_name} was added as ${added.role}${added.guest ? ' (guest)' : ''}.`)
  })

  return (
    <section class="access-panel" aria-labelledby="access-title">
      <h3 id="access-title">Access</h3>
      <fieldset class="visibility" disabled={!props.canManage}>
        <legend>Who can open this document</legend>
        <label class="choice">
          <input type="radio" name="visibility" value="workspace" checked={!restricted} onChange={() => { void setVisibility('workspace') }} />
          Everyone in the workspace, with their workspace role
        </label>
        <label class="choice">
          <input type="radio" name="visibility" value="restricted" checked={restricted} onChange={() => { void setVisibility('restricted') }} />
          Only the people listed here (restricted)
        </label>
      </fieldset>
      {props.canManage && (
        <form class="access-add" onSubmit={(e) => { e.preventDefault(); void add() }}>
          <label class="grow">Add by email<input type="email" required value={email} placeholder="name@example.com" onInput={(e) => setEmail(e.currentTarget.value)} /></label>
          <label>Role
            <select name="access-role" value={role} onChange={(e) => setRole(e.currentTarget.value as DocumentRole)}>
              {DOCUMENT_ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
          </label>
          <button class="primary" type="submit">Add</button>
          <p class="muted small">Someone outside the workspace becomes a guest: they see this document only. They need an account first.</p>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {notice && <p class="notice" role="status">{notice}</p>}
      <h4>Who has access</h4>
      <ul class="access-list" data-testid="access-list">
        <li class="access-row">
          <span class="grow"><strong>Workspace admins and owners</strong><span class="muted small">Always, to every document</span></span>
        </li>
        {!restricted && (
          <li class="access-row">
            <span class="grow"><strong>Everyone in the workspace</strong><span class="muted small">By their workspace role</span></span>
          </li>
        )}
        {people.map((person) => {
          const me = person.user_id === props.me
          return (
            <li key={person.user_id} class="access-row" data-testid="access-person">
              <span class="grow">
                <span><strong>{person.full_name}{me && ' (you)'}</strong>{person.guest && <span class="tag">Guest</span>}</span>
                <span class="muted small">{person.email} · {why(person)}</span>
              </span>
              {props.canManage
                ? (
                  <select aria-label={`Role of ${person.full_name}`} value={person.role}
                    onChange={(e) => { void run(() => api.setDocumentRole(props.documentId, person.user_id, e.currentTarget.value as DocumentRole)) }}>
                    {DOCUMENT_ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                  </select>
                  )
                : <span>{person.role}</span>}
              {(props.canManage || me) && (
                <button type="button" aria-label={`Remove ${person.full_name}`}
                  onClick={() => { void run(() => api.removeDocumentMember(props.documentId, person.user_id), `${person.full_name} was removed.`) }}>
                  Remove
                </button>
              )}
            </li>
          )
        })}
      </ul>
      {people.length === 0 && <p class="muted small">Nobody is listed on this document yet.</p>}
    </section>
  )
}
