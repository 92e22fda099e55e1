// Sign in and register. Also shown over the page when a session ends, so nothing typed is lost.
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/client'
import type { Providers } from '../api/types'
import { messageOf } from '../components/errors'

export function Auth (props: { mode: 'login' | 'register', onDone: () => void, onSwitch?: (mode: 'login' | 'register') => void, again?: boolean }) {
  const [email, setEmail] = useState('')
  const [secret, setSecret] = useState('')
  const [fullName, setFullName] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const registering = props.mode === 'register'
  // Until the server says otherwise, the password form shows (as before single sign-on existed).
  const [providers, setProviders] = useState<Providers>({ password: true, oidc: null })
  useEffect(() => { void api.providers().then(setProviders, () => {}) }, [])
  const password = providers.password

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      if (registering) await api.register(email, secret, fullName)
      await api.login(email, secret)
      props.onDone()
    } catch (problem) {
      setError(messageOf(problem))
    } finally {
      setBusy(false)
    }
  }

  return (
    <main class={props.again ? 'auth auth-again' : 'auth'}>
      <form class="card auth-card" onSubmit={submit} aria-labelledby="auth-title">
        <h1 id="auth-title">{registering ? 'Create your account' : props.again ? 'Sign in again' : 'Sign in to cowrite'}</h1>
        {props.again && <p class="muted">Your session ended. What you typed is kept; sign in to continue.</p>}
        {providers.oidc && !registering && (
          <>
            {/* A full page load: the server sends the browser on to the provider. */}
            <a class="button primary sso" href="/api/v1/auth/oidc/login" data-testid="sso">Sign in with {providers.oidc.name}</a>
            {password && <p class="muted or">or with your password</p>}
          </>
        )}
        {!password && !providers.oidc && <p class="error" role="alert">Sign-in is turned off on this server.</p>}
        {password && registering && (
          <label>Full name<input name="full_name" autocomplete="name" required value={fullName} onInput={(e) => setFullName(e.currentTarget.value)} /></label>
        )}
        {password && (
          <>
            <label>Email<input name="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} /></label>
            <label>Password<input name="password" type="password" autocomplete={registering ? 'new-password' : 'current-password'} required value={secret} onInput={(e) => setSecret(e.currentTarget.value)} /></label>
          </>
        )}
        {error && <p class="error" role="alert">{error}</p>}
        {password && <button class={providers.oidc && !registering ? '' : 'primary'} type="submit" disabled={busy}>{registering ? 'Create account' : 'Sign in'}</button>}
        {password && props.onSwitch && (
          <p class="muted">
            {registering ? 'Already have an account? ' : 'New here? '}
            <button type="button" class="linkish" onClick={() => props.onSwitch?.(registering ? 'login' : 'register')}>
              {registering ? 'Sign in' : 'Create an account'}
            </button>
          </p>
        )}
      </form>
    </main>
  )
}
