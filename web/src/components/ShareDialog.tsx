// The Share dialog of the editor page: who has access (the slot above the links), then public
// links to the document (make one with an optional password and expiry, copy it while it is
// shown, revoke it). A link works while the person who made it may edit the document.
import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { shares, type ShareLink } from '../api/shares'
import { messageOf } from './errors'

export interface ShareDialogProps {
  documentId: string
  canShare: boolean
  onClose: () => void
  /** Names of the workspace's people by id, to say who made each link. */
  names?: ReadonlyMap<string, string>
  /** The first section of the dialog: access to the document. */
  children?: ComponentChildren
}

const when = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : 'never')

export function ShareDialog (props: ShareDialogProps) {
  const [links, setLinks] = useState<ShareLink[]>([])
  const [fresh, setFresh] = useState<ShareLink | null>(null)
  const [password, setPassword] = useState('')
  const [expires, setExpires] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [copied, setCopied] = useState(false)

  const load = async (): Promise<void> => {
    if (!props.canShare) return
    try { setLinks(await shares.list(props.documentId)) } catch (problem) { setError(messageOf(problem)) }
  }
  useEffect(() => { void load() }, [props.documentId])
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => { if (event.key === 'Escape') props.onClose() }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])

  const create = async (): Promise<void> => {
    setError(null); setCopied(false)
    try {
      const made = await shares.create(props.documentId, {
        password: password || undefined,
        expires_at: expires ? new Date(expires).toISOString() : undefined
      })
      setFresh(made); setPassword(''); setExpires('')
      await load()
    } catch (problem) { setError(messageOf(problem)) }
  }
  const revoke = async (link: ShareLink): Promise<void> => {
    setError(null)
    try {
      await shares.revoke(link.id)
      if (fresh?.id === link.id) setFresh(null)
      await load()
    } catch (problem) { setError(messageOf(problem)) }
  }
  const copy = async (url: string): Promise<void> => {
    try { await navigator.clipboard.writeText(url); setCopied(true) } catch { setCopied(false) }
  }
  const madeBy = (link: ShareLink): string => {
    const name = link.created_by ? props.names?.get(link.created_by) : undefined
    return name ? ` by ${name}` : ''
  }
  const freshUrl = fresh?.token ? `${location.origin}/s/${fresh.token}` : null

  return (
    <div class="overlay" onClick={(e) => { if (e.target === e.currentTarget) props.onClose() }}>
      <div class="dialog card share-dialog" role="dialog" aria-modal="true" aria-labelledby="share-title">
        <div class="row">
          <h2 id="share-title" class="grow">Share</h2>
          <button type="button" class="plain-button" aria-label="Close" onClick={props.onClose}>✕</button>
        </div>
        {props.children}
        {error && <p class="error" role="alert">{error}</p>}
        <section aria-labelledby="share-links-title">
          <h3 id="share-links-title">Public links</h3>
          {!props.canShare && <p class="muted">Only editors can make public links to this document.</p>}
          {props.canShare && (
            <>
              <p class="muted small">Anyone with a link can read this document, and watch it change live, without an account. A link stops working if the person who made it can no longer edit the document.</p>
              <form class="row wrap" onSubmit={(e) => { e.preventDefault(); void create() }}>
                <label class="grow">Password (optional)
                  <input type="password" autocomplete="new-password" maxLength={128} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
                </label>
                <label>Expires (optional)
                  <input type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
                </label>
                <button class="primary" type="submit">Create link</button>
              </form>
              {freshUrl && (
                <div class="share-fresh" role="status">
                  <label class="grow">New link (copy it now: it is shown only once)
                    <input readOnly value={freshUrl} data-testid="share-url" onFocus={(e) => e.currentTarget.select()} />
                  </label>
                  <button type="button" onClick={() => { void copy(freshUrl) }}>{copied ? 'Copied' : 'Copy'}</button>
                </div>
              )}
              <ul class="plain share-links" aria-label="Links">
                {links.length === 0 && <li class="muted">No public links.</li>}
                {links.map((link) => (
                  <li key={link.id} class="row" data-testid="share-link">
                    <span class="grow">
                      <strong>Link made {when(link.created_at)}{madeBy(link)}</strong>
                      {link.has_password && <span class="tag">password</span>}
                      {link.expires_at && <span class="tag">expires {when(link.expires_at)}</span>}
                      <br /><span class="muted small">{link.view_count === 1 ? '1 view' : `${link.view_count} views`} · last used {when(link.last_used_at)}</span>
                    </span>
                    <button type="button" class="danger" onClick={() => { void revoke(link) }}>Revoke</button>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      </div>
    </div>
  )
}
