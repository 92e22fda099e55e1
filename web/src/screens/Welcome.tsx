// `/`: straight to the last workspace, or a first workspace to create.
import { useEffect, useState } from 'preact/hooks'
import type { Shell } from '../App'
import { api } from '../api/client'
import { messageOf } from '../components/errors'
import { SharedList } from '../components/SharedList'
import { lastWorkspace } from '../components/workspace'
import { navigate } from '../router'

export function Welcome (props: { shell: Shell }) {
  const { workspaces } = props.shell
  const [name, setName] = useState('')
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    if (workspaces.length === 0) return
    const last = lastWorkspace()
    const target = workspaces.find((w) => w.id === last) ?? workspaces[0]
    navigate(`/w/${target.id}`, true)
  }, [workspaces])
  if (workspaces.length > 0) return <main class="loading" aria-busy="true">Opening your workspace…</main>
  const create = async (event: Event): Promise<void> => {
    event.preventDefault()
    try {
      const created = await api.createWorkspace(name)
      await props.shell.reloadWorkspaces()
      navigate(`/w/${created.id}`)
    } catch (problem) { setError(messageOf(problem)) }
  }
  return (
    <main class="page narrow">
      <h1>Welcome, {props.shell.user.full_name}</h1>
      <p>Documents live in workspaces. Create your first one, or ask a colleague to invite you.</p>
      <form class="row" onSubmit={create}>
        <label class="grow">Workspace name<input required value={name} onInput={(e) => setName(e.currentTarget.value)} /></label>
        <button class="primary" type="submit">Create workspace</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <SharedList heading="Shared with you" hideWhenEmpty />
    </main>
  )
}
