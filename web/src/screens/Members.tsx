// Members and roles: everyone sees the list; admins and owners invite, change roles and remove;
// anyone may leave.
import { useEffect, useState } from 'preact/hooks'
import type { Shell } from '../App'
import { api } from '../api/client'
import { atLeast, type Member, type Role } from '../api/types'
import { messageOf } from '../components/errors'
import { navigate } from '../router'
import { WorkspaceSidebar } from './Documents'

const ROLES: Role[] = ['viewer', 'editor', 'admin', 'owner']

export function Members (props: { shell: Shell, workspaceId: string }) {
  const workspace = props.shell.workspaces.find((w) => w.id === props.workspaceId)
  const [members, setMembers] = useState<Member[]>([])
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<Role>('editor')
  const [error, setError] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const myRole = workspace?.role
  const grantable = ROLES.filter((r) => r !== 'owner' || myRole === 'owner')
  const manage = atLeast(myRole, 'admin')

  const load = async (): Promise<void> => {
    try { setMembers(await api.members(props.workspaceId)) } catch (problem) { setError(messageOf(problem)) }
  }
  useEffect(() => { void load() }, [props.workspaceId])

  const run = async (action: () => Promise<unknown>, done?: string): Promise<void> => {
    setError(null); setNotice(null)
    try { await action(); await load(); if (done) setNotice(done) } catch (problem) { setError(messageOf(problem)) }
  }
  const leave = async (): Promise<void> => {
    await run(async () => {
      await api.removeMember(props.workspaceId, props.shell.user.id)
      await props.shell.reloadWorkspaces()
      navigate('/')
    })
  }

  if (!workspace) return <main class="page"><p>This workspace is not yours, or no longer exists.</p></main>
  return (
    <div class="workspace">
      <WorkspaceSidebar shell={props.shell} workspaceId={props.workspaceId} />
      <main class="page">
        <h1>Members of {workspace.name}</h1>
        {manage && (
          <form class="row" onSubmit={(e) => { e.preventDefault(); void run(() => api.invite(props.workspaceId, email, role).then(() => setEmail('')), `${email} was added.`) }}>
            <label class="grow">Invite by email<input type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} /></label>
            <label>Role
              <select name="invite-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
                {grantable.map((r) => <option key={r} value={r}>{r}</option>)}
              </select>
            </label>
            <button class="primary" type="submit">Invite</button>
          </form>
        )}
        {error && <p class="error" role="alert">{error}</p>}
        {notice && <p class="notice" role="status">{notice}</p>}
        <table class="members">
          <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {members.map((m) => {
              const me = m.user_id === props.shell.user.id
              const editable = manage && !me && (m.role !== 'owner' || myRole === 'owner')
              return (
                <tr key={m.user_id}>
                  <td>{m.full_name}{me && ' (you)'}</td>
                  <td>{m.email}</td>
                  <td>
                    {editable
                      ? (
                        <select aria-label={`Role of ${m.full_name}`} value={m.role} onChange={(e) => { void run(() => api.setRole(props.workspaceId, m.user_id, e.currentTarget.value as Role)) }}>
                          {grantable.map((r) => <option key={r} value={r}>{r}</option>)}
                        </select>
                        )
                      : m.role}
                  </td>
                  <td>
                    {editable && <button type="button" onClick={() => { void run(() => api.removeMember(props.workspaceId, m.user_id)) }}>Remove</button>}
                    {me && <button type="button" onClick={() => { void leave() }}>Leave workspace</button>}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </main>
    </div>
  )
}
