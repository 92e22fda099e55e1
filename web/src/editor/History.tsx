// The version history panel: list, save a labelled version, view one, its diff against the
// current text, and restore it (editors and up).
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/client'
import type { Version, VersionFull } from '../api/types'
import { messageOf } from '../components/errors'

function DiffView (props: { unified: string }) {
  if (!props.unified.trim()) return <p class="muted">No difference from the current text.</p>
  return (
    <pre class="diff">
      {props.unified.split('\n').map((line, i) => (
        <span key={i} class={line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : ''}>{line}{'\n'}</span>
      ))}
    </pre>
  )
}

export function History (props: { documentId: string, canWrite: boolean, onClose: () => void }) {
  const [versions, setVersions] = useState<Version[]>([])
  const [selected, setSelected] = useState<VersionFull | null>(null)
  const [diff, setDiff] = useState<string | null>(null)
  const [label, setLabel] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)

  const load = async (): Promise<void> => {
    try { setVersions((await api.versions(props.documentId)).items) } catch (problem) { setError(messageOf(problem)) }
  }
  useEffect(() => { void load() }, [props.documentId])

  const run = async (action: () => Promise<unknown>, done?: string): Promise<void> => {
    setError(null); setNotice(null)
    try { await action(); if (done) setNotice(done) } catch (problem) { setError(messageOf(problem)) }
  }
  const open = (n: number): Promise<void> => run(async () => {
    const [version, changes] = await Promise.all([api.version(props.documentId, n), api.diff(props.documentId, n)])
    setSelected(version)
    setDiff(changes.unified)
  })

  return (
    <aside class="panel" aria-label="Version history">
      <div class="panel-head">
        <h2>History</h2>
        <button type="button" onClick={props.onClose} aria-label="Close history">✕</button>
      </div>
      {props.canWrite && (
        <form class="row" onSubmit={(e) => { e.preventDefault(); void run(async () => { await api.snapshot(props.documentId, label.trim() || null); setLabel(''); await load() }, 'Version saved.') }}>
          <label class="grow">Label<input value={label} placeholder="e.g. Sent for review" onInput={(e) => setLabel(e.currentTarget.value)} /></label>
          <button type="submit">Save version</button>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {notice && <p class="notice" role="status">{notice}</p>}
      <ol class="versions">
        {versions.map((v) => (
          <li key={v.number}>
            <button type="button" class={selected?.number === v.number ? 'version selected' : 'version'} onClick={() => { void open(v.number) }}>
              <strong>v{v.number}</strong>{v.label && <span class="tag">{v.label}</span>}
              <span class="muted small">{new Date(v.updated_at).toLocaleString()}</span>
            </button>
          </li>
        ))}
      </ol>
      {selected && (
        <section class="version-view" aria-label={`Version ${selected.number}`}>
          <h3>Version {selected.number}{selected.label ? ` · ${selected.label}` : ''}</h3>
          {props.canWrite && (
            <button type="button" class="primary" onClick={() => { void run(async () => { await api.restoreVersion(props.documentId, selected.number); await load() }, `Version ${selected.number} restored.`) }}>
              Restore this version
            </button>
          )}
          <h4>Changes since this version</h4>
          {diff !== null && <DiffView unified={diff} />}
          <h4>Text of this version</h4>
          <pre class="version-text">{selected.content}</pre>
        </section>
      )}
    </aside>
  )
}
