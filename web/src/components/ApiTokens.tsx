// The API tokens section of the account page: personal tokens for scripts (REST only), each
// shown once when made, with its scopes, expiry and last use; revoke any of them.
import { useEffect, useState } from 'preact/hooks'
import { shares, type ApiToken, type NewApiToken } from '../api/shares'
import { messageOf } from './errors'

const when = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : 'never')

export function ApiTokens () {
  const [tokens, setTokens] = useState<ApiToken[]>([])
  const [name, setName] = useState('')
  const [write, setWrite] = useState(false)
  const [expires, setExpires] = useState('')
  const [fresh, setFresh] = useState<NewApiToken | null>(null)
  const [error, setError] = useState<string | null>(null)

  const load = async (): Promise<void> => {
    try { setTokens(await shares.tokens()) } catch (problem) { setError(messageOf(problem)) }
  }
  useEffect(() => { void load() }, [])
  const run = async (action: () => Promise<void>): Promise<void> => {
    setError(null)
    try { await action(); await load() } catch (problem) { setError(messageOf(problem)) }
  }

  return (
    <section class="card api-tokens" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <p class="muted small">A token lets a script use the REST API as you (never your account settings). Keep it secret.</p>
      {error && <p class="error" role="alert">{error}</p>}
      <form class="row" onSubmit={(e) => {
        e.preventDefault()
        void run(async () => {
          setFresh(await shares.createToken(name, write ? ['read', 'write'] : ['read'], expires ? new Date(expires).toISOString() : undefined))
          setName(''); setWrite(false); setExpires('')
        })
      }}>
        <label class="grow">Name<input required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} /></label>
        <label>Expires (optional)<input type="date" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} /></label>
        <label class="check"><input type="checkbox" checked={write} onChange={(e) => setWrite(e.currentTarget.checked)} /> May write</label>
        <button class="primary" type="submit">Create token</button>
      </form>
      {fresh && (
        <div class="share-fresh" role="status">
          <label class="grow">New token “{fresh.name}” (copy it now: it is shown only once)
            <input readOnly value={fresh.token} data-testid="api-token" onFocus={(e) => e.currentTarget.select()} />
          </label>
        </div>
      )}
      <ul class="plain sessions">
        {tokens.length === 0 && <li class="muted">No tokens.</li>}
        {tokens.map((token) => (
          <li key={token.id} class="row">
            <span class="grow">
              <strong>{token.name}</strong> <span class="tag">{token.scopes.join(' + ')}</span>
              <br /><span class="muted small">made {when(token.created_at)} · expires {when(token.expires_at)} · last used {when(token.last_used_at)}</span>
            </span>
            <button type="button" class="danger" onClick={() => { void run(() => shares.revokeToken(token.id)) }}>Revoke</button>
          </li>
        ))}
      </ul>
    </section>
  )
}
