// The documents a person is listed on, across workspaces: the home of a guest (who has no
// workspace to list) and, for members, the restricted pages someone added them to.
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/client'
import { rememberFormats } from '../api/formats'
import type { SharedDocument } from '../api/types'
import { messageOf } from './errors'
import { onLink } from '../router'

const when = (iso: string): string => new Date(iso).toLocaleString()

export function SharedList (props: { heading: string, hideWhenEmpty?: boolean }) {
  const [items, setItems] = useState<SharedDocument[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    api.sharedWithMe().then((page) => { rememberFormats(page.items); setItems(page.items) }, (problem) => setError(messageOf(problem)))
  }, [])
  if (props.hideWhenEmpty && items !== null && items.length === 0) return null
  return (
    <section class="shared" aria-labelledby="shared-heading">
      <h2 id="shared-heading">{props.heading}</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {items === null && !error && <p class="muted" aria-busy="true">Loading…</p>}
      {items !== null && items.length === 0 && <p class="muted">Nobody has listed you on a document yet.</p>}
      {items !== null && items.length > 0 && (
        <div class="doclist" role="list" aria-label={props.heading}>
          {items.map((doc) => (
            <div role="listitem" class="docrow" key={doc.id} data-testid="shared-document">
              <div class="docmain">
                <a data-nav class="title" href={`/d/${doc.id}`} onClick={(e) => onLink(e, `/d/${doc.id}`)}>{doc.title}</a>
                {doc.format === 'rich' && <span class="tag format" title="Rich text">rich</span>}
                <span class="tag" title="Your role on this document">{doc.role}</span>
                <span class="muted small">in {doc.workspace_name}{doc.guest ? ' (as a guest)' : ''} · shared {when(doc.shared_at)}</span>
              </div>
            </div>
          ))}
        </div>
      )}
    </section>
  )
}
