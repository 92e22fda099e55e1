// The header: brand, workspace switcher, a slot for later features (holding the bell), account, sign out.
import type { Shell } from '../App'
import { api } from '../api/client'
import { match, navigate } from '../router'
import { Bell } from './Bell'
import { Link } from './Link'
import { lastWorkspace } from './workspace'

export function Header (props: { shell: Shell, path: string }) {
  const { workspaces } = props.shell
  const inWorkspace = match('/w/:id', props.path) ?? match('/w/:id/members', props.path) ?? match('/w/:id/webhooks', props.path)
  const current = inWorkspace?.id ?? lastWorkspace() ?? ''
  const signOut = async (): Promise<void> => {
    await api.logout()
    location.assign('/login')
  }
  return (
    <header class="topbar">
      <Link href="/" class="brand">cowrite</Link>
      {workspaces.length > 0 && (
        <label class="switcher">
          <span class="visually-hidden">Workspace</span>
          <select value={current} onChange={(e) => navigate(`/w/${e.currentTarget.value}`)}>
            {!workspaces.some((w) => w.id === current) && <option value="">Choose a workspace</option>}
            {workspaces.map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
          </select>
        </label>
      )}
      <div class="spacer" />
      <div class="header-slot" id="header-slot"><Bell /></div>
      <Link href="/shared" class="account-link" aria-current={props.path === '/shared' ? 'page' : undefined}>Shared with me</Link>
      <Link href="/account" class="account-link" aria-current={props.path === '/account' ? 'page' : undefined}>
        {props.shell.user.full_name}
      </Link>
      <button type="button" onClick={() => { void signOut() }}>Sign out</button>
    </header>
  )
}
