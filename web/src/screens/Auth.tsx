// Sign in and register. Also shown over the page when a session ends, so nothing typed is lost.
import { useState } from 'preact/hooks'
import { api } from '../api/client'
import { messageOf } from '../components/errors'

export function Auth (props: { mode: 'login' | 'register', onDone: () => void, onSwitch?: (mode: 'login' | 'register') => void, again?: boolean }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [fullName, setFullName] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const registering = props.mode === 'register'

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      if (registering) await api.register(email, password, fullName)
      await api.login(email, password)
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
        {registering && (
          <label>Full name<input name="full_name" autocomplete="name" required value={fullName} onInput={(e) => setFullName(e.currentTarget.value)} /></label>
        )}
        <label>Email<input name="email" type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} /></label>
        <label>Password<input name="password" type="password" autocomplete={registering ? 'new-password' : 'current-password'} required value={password} onInput={(e) => setPassword(e.currentTarget.value)} /></label>
        {error && <p class="error" role="alert">{error}</p>}
        <button class="primary" type="submit" disabled={busy}>{registering ? 'Create account' : 'Sign in'}</button>
        {props.onSwitch && (
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
