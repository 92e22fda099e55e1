// Back from single sign-on: the server sent a one-time code (never a token) in the address; trade
// it for a session as a password sign-in gives, drop it from the address, and go on signed in.
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/client'
import { messageOf } from '../components/errors'
import { navigate } from '../router'

export function OidcSignIn (props: { onDone: () => Promise<void> }) {
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    const code = new URLSearchParams(location.search).get('code')
    // The code works once: out of the address (and the history) before anything else.
    history.replaceState(null, '', '/sign-in/oidc')
    if (!code) { setError('This sign-in link has no code. Start the sign-in again.'); return }
    void (async () => {
      try {
        await api.oidcExchange(code)
        await props.onDone()
        navigate('/', true)
      } catch (problem) {
        setError(messageOf(problem))
      }
    })()
  }, [])

  return (
    <main class="auth">
      <div class="card auth-card" aria-live="polite">
        {error
          ? (
            <>
              <h1>Sign-in failed</h1>
              <p class="error" role="alert">{error}</p>
              <p><a class="button primary" href="/login">Back to sign-in</a></p>
            </>
            )
          : <h1 aria-busy="true">Signing you in…</h1>}
      </div>
    </main>
  )
}
