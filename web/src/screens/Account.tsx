// My account: name, password, email notifications, and the devices signed in, each with "sign out this device".
import { useEffect, useState } from 'preact/hooks'
import type { Shell } from '../App'
import { api } from '../api/client'
import type { LoginInfo } from '../api/types'
import { ApiTokens } from '../components/ApiTokens'
import { messageOf } from '../components/errors'
import { NotificationSettings } from './NotificationSettings'

export function Account (props: { shell: Shell }) {
  const [name, setName] = useState(props.shell.user.full_name)
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [logins, setLogins] = useState<LoginInfo[]>([])
  const [error, setError] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)

  const load = async (): Promise<void> => {
    try { setLogins((await api.sessions()).logins) } catch (problem) { setError(messageOf(problem)) }
  }
  useEffect(() => { void load() }, [])
  const run = async (action: () => Promise<unknown>, done: string): Promise<void> => {
    setError(null); setNotice(null)
    try { await action(); setNotice(done); await load() } catch (problem) { setError(messageOf(problem)) }
  }

  return (
    <main class="page narrow">
      <h1>My account</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {notice && <p class="notice" role="status">{notice}</p>}
      <section class="card">
        <h2>Profile</h2>
        <p class="muted">{props.shell.user.email}</p>
        <form class="row" onSubmit={(e) => { e.preventDefault(); void run(async () => props.shell.setUser(await api.updateMe(name)), 'Your name was saved.') }}>
          <label class="grow">Full name<input required value={name} onInput={(e) => setName(e.currentTarget.value)} /></label>
          <button class="primary" type="submit">Save</button>
        </form>
      </section>
      <section class="card">
        <h2>Password</h2>
        <form class="row" onSubmit={(e) => { e.preventDefault(); void run(async () => { await api.changePassword(current, next); setCurrent(''); setNext('') }, 'Password changed; your other devices were signed out.') }}>
          <label class="grow">Current password<input type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} /></label>
          <label class="grow">New password<input type="password" autocomplete="new-password" required value={next} onInput={(e) => setNext(e.currentTarget.value)} /></label>
          <button class="primary" type="submit">Change password</button>
        </form>
      </section>
      <NotificationSettings />
      <ApiTokens />
      <section class="card">
        <h2>Signed-in devices</h2>
        <ul class="plain sessions">
          {logins.map((login) => (
            <li key={login.id} class="row">
              <span class="grow">
                <strong>{login.device_type}</strong> · {login.client_address} · last seen {new Date(login.last_seen_at).toLocaleString()}
                {login.current && <span class="tag">this device</span>}
                <br /><span class="muted small">{login.user_agent}</span>
              </span>
              {!login.current && <button type="button" onClick={() => { void run(() => api.revokeSession(login.id), 'That device was signed out.') }}>Sign out this device</button>}
            </li>
          ))}
        </ul>
      </section>
    </main>
  )
}
