// A workspace: its documents (tag filter, sort, trash), search with highlighted snippets, and the
// actions each role may take. `/` focuses search; arrow keys walk the list.
import { useEffect, useRef, useState } from 'preact/hooks'
import type { Shell } from '../App'
import { api } from '../api/client'
import { rememberFormats } from '../api/formats'
import { atLeast, type DocumentFormat, type DocumentMeta, type SearchHit, type TagCount } from '../api/types'
import { Link } from '../components/Link'
import { Snippet } from '../components/Snippet'
import { messageOf } from '../components/errors'
import { arrowNavigation, focusSearchOnSlash } from '../components/keys'
import { rememberWorkspace } from '../components/workspace'
import { navigate, onLink } from '../router'

type Sort = 'updated' | 'title' | 'created'

const when = (iso: string): string => new Date(iso).toLocaleString()

function sorted (items: DocumentMeta[], sort: Sort): DocumentMeta[] {
  const copy = [...items]
  if (sort === 'title') copy.sort((a, b) => a.title.localeCompare(b.title))
  else if (sort === 'created') copy.sort((a, b) => b.created_at.localeCompare(a.created_at))
  else copy.sort((a, b) => b.updated_at.localeCompare(a.updated_at))
  return copy
}

export function Documents (props: { shell: Shell, workspaceId: string }) {
  const workspace = props.shell.workspaces.find((w) => w.id === props.workspaceId)
  const role = workspace?.role
  const [docs, setDocs] = useState<DocumentMeta[]>([])
  const [tags, setTags] = useState<TagCount[]>([])
  const [tag, setTag] = useState('')
  const [sort, setSort] = useState<Sort>('updated')
  const [trashed, setTrashed] = useState(false)
  const [query, setQuery] = useState('')
  const [hits, setHits] = useState<SearchHit[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [editing, setEditing] = useState<string | null>(null)
  const [loaded, setLoaded] = useState(false)
  const searchInput = useRef<HTMLInputElement>(null)
  const list = useRef<HTMLDivElement>(null)

  const load = async (): Promise<void> => {
    try {
      const [page, tagCounts] = await Promise.all([api.documents(props.workspaceId, { tag, trashed }), api.tags(props.workspaceId)])
      rememberFormats(page.items)
      setDocs(page.items)
      setTags(tagCounts)
      setLoaded(true)
    } catch (problem) { setError(messageOf(problem)) }
  }

  useEffect(() => { rememberWorkspace(props.workspaceId) }, [props.workspaceId])
  useEffect(() => { void load() }, [props.workspaceId, tag, trashed])
  useEffect(() => {
    const handler = focusSearchOnSlash(() => searchInput.current)
    window.addEventListener('keydown', handler)
    return () => window.removeEventListener('keydown', handler)
  }, [])

  const act = async (action: () => Promise<unknown>): Promise<void> => {
    setError(null)
    try { await action(); await load() } catch (problem) { setError(messageOf(problem)) }
  }

  const create = async (format: DocumentFormat = 'markdown'): Promise<void> => {
    try {
      const doc = await api.createDocument(props.workspaceId, 'Untitled', format)
      rememberFormats([doc])
      navigate(`/d/${doc.id}`)
    } catch (problem) { setError(messageOf(problem)) }
  }

  const search = async (event: Event): Promise<void> => {
    event.preventDefault()
    if (!query.trim()) { setHits(null); return }
    try { setHits((await api.search(query, props.workspaceId)).items) } catch (problem) { setError(messageOf(problem)) }
  }

  if (!workspace) return <main class="page"><p>This workspace is not yours, or no longer exists.</p></main>

  return (
    <div class="workspace">
      <WorkspaceSidebar shell={props.shell} workspaceId={props.workspaceId} />
      <main class="page" onKeyDown={(e) => arrowNavigation(e, list.current)}>
        <div class="toolbar">
          <form role="search" class="search" onSubmit={search}>
            <label class="visually-hidden" for="search">Search documents</label>
            <input id="search" ref={searchInput} type="search" placeholder="Search (press /)" value={query}
              onInput={(e) => { setQuery(e.currentTarget.value); if (!e.currentTarget.value) setHits(null) }} />
          </form>
          <label>Tag
            <select value={tag} onChange={(e) => setTag(e.currentTarget.value)}>
              <option value="">All</option>
              {tags.map((t) => <option key={t.name} value={t.name}>{t.name} ({t.count})</option>)}
            </select>
          </label>
          <label>Sort
            <select value={sort} onChange={(e) => setSort(e.currentTarget.value as Sort)}>
              <option value="updated">Last edited</option>
              <option value="created">Newest</option>
              <option value="title">Title</option>
            </select>
          </label>
          <label class="check"><input type="checkbox" checked={trashed} onChange={(e) => setTrashed(e.currentTarget.checked)} />Trash</label>
          {atLeast(role, 'editor') && <button class="primary" type="button" onClick={() => { void create() }}>New document</button>}
          {atLeast(role, 'editor') && <button type="button" title="A document with formatting (Tiptap)" onClick={() => { void create('rich') }}>New rich text</button>}
        </div>
        {error && <p class="error" role="alert">{error}</p>}
        {hits !== null && (
          <section aria-label="Search results" class="results" ref={list}>
            <h2>{hits.length} result{hits.length === 1 ? '' : 's'} for “{query}”</h2>
            {hits.map((hit) => (
              <article key={hit.document_id} class="hit">
                <a data-nav href={`/d/${hit.document_id}`} onClick={(e) => onLink(e, `/d/${hit.document_id}`)}>{hit.title}</a>
                <Snippet html={hit.snippet} />
              </article>
            ))}
          </section>
        )}
        {hits === null && (
          <div class="doclist" ref={list} role="list" aria-label={trashed ? 'Trash' : 'Documents'}>
            {loaded && docs.length === 0 && <p class="muted">{trashed ? 'The trash is empty.' : 'No documents yet.'}</p>}
            {sorted(docs, sort).map((doc) => (
              <div role="listitem" class="docrow" key={doc.id}>
                {editing === doc.id
                  ? <DocumentEdit doc={doc} onDone={(patch) => { setEditing(null); if (patch) void act(() => api.updateDocument(doc.id, patch)) }} />
                  : (
                    <div class="docmain">
                      {trashed ? <span class="title">{doc.title}</span> : <a data-nav class="title" href={`/d/${doc.id}`} onClick={(e) => onLink(e, `/d/${doc.id}`)}>{doc.title}</a>}
                      {doc.format === 'rich' && <span class="tag format" title="Rich text">rich</span>}
                      <span class="tags">{doc.tags.map((t) => <span class="tag" key={t}>{t}</span>)}</span>
                      <span class="muted small">edited {when(doc.updated_at)}</span>
                    </div>
                    )}
                <div class="docactions">
                  {!trashed && atLeast(role, 'editor') && editing !== doc.id && <button type="button" onClick={() => setEditing(doc.id)}>Rename / tag</button>}
                  {!trashed && atLeast(role, 'editor') && <button type="button" onClick={() => { void act(() => api.trash(doc.id)) }}>Move to trash</button>}
                  {trashed && atLeast(role, 'admin') && <button type="button" onClick={() => { void act(() => api.restore(doc.id)) }}>Restore</button>}
                  {trashed && atLeast(role, 'admin') && <button type="button" class="danger" onClick={() => { void act(() => api.purge(doc.id)) }}>Delete forever</button>}
                </div>
              </div>
            ))}
          </div>
        )}
      </main>
    </div>
  )
}

function DocumentEdit (props: { doc: DocumentMeta, onDone: (patch: { title: string, tags: string[] } | null) => void }) {
  const [title, setTitle] = useState(props.doc.title)
  const [tags, setTags] = useState(props.doc.tags.join(', '))
  const save = (event: Event): void => {
    event.preventDefault()
    props.onDone({ title, tags: tags.split(',').map((t) => t.trim()).filter(Boolean) })
  }
  return (
    <form class="docedit" onSubmit={save}>
      <label>Title<input value={title} required onInput={(e) => setTitle(e.currentTarget.value)} /></label>
      <label>Tags<input value={tags} placeholder="comma, separated" onInput={(e) => setTags(e.currentTarget.value)} /></label>
      <button class="primary" type="submit">Save</button>
      <button type="button" onClick={() => props.onDone(null)}>Cancel</button>
    </form>
  )
}

export function WorkspaceSidebar (props: { shell: Shell, workspaceId: string }) {
  const workspace = props.shell.workspaces.find((w) => w.id === props.workspaceId)
  const [renaming, setRenaming] = useState(false)
  const [name, setName] = useState(workspace?.name ?? '')
  const [newName, setNewName] = useState('')
  const [error, setError] = useState<string | null>(null)
  if (!workspace) return null
  const run = async (action: () => Promise<unknown>): Promise<void> => {
    setError(null)
    try { await action() } catch (problem) { setError(messageOf(problem)) }
  }
  return (
    <nav class="sidebar" aria-label="Workspace">
      {renaming
        ? (
          <form onSubmit={(e) => { e.preventDefault(); void run(async () => { await api.renameWorkspace(workspace.id, name); await props.shell.reloadWorkspaces(); setRenaming(false) }) }}>
            <label>Workspace name<input value={name} required onInput={(e) => setName(e.currentTarget.value)} /></label>
            <button class="primary" type="submit">Save</button>
          </form>
          )
        : <h2 class="wsname">{workspace.name}</h2>}
      <p class="muted small">Your role: {workspace.role}</p>
      <ul class="plain">
        <li><Link href={`/w/${workspace.id}`}>Documents</Link></li>
        <li><Link href={`/w/${workspace.id}/members`}>Members</Link></li>
        {atLeast(workspace.role, 'admin') && <li><Link href={`/w/${workspace.id}/webhooks`}>Webhooks</Link></li>}
        {atLeast(workspace.role, 'admin') && !renaming && <li><button type="button" class="linkish" onClick={() => { setName(workspace.name); setRenaming(true) }}>Rename workspace</button></li>}
      </ul>
      <form class="newws" onSubmit={(e) => {
        e.preventDefault()
        void run(async () => { const created = await api.createWorkspace(newName); setNewName(''); await props.shell.reloadWorkspaces(); navigate(`/w/${created.id}`) })
      }}>
        <label>New workspace<input value={newName} required onInput={(e) => setNewName(e.currentTarget.value)} /></label>
        <button type="submit">Create</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </nav>
  )
}
