// The shell: who is signed in, their workspaces, the header, and the screen for the path.
import type { ComponentType } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { api, auth, refresh } from './api/client'
import { formatOf, rememberFormats } from './api/formats'
import type { DocumentFormat, User, Workspace } from './api/types'
import { Header } from './components/Header'
import { match, navigate, usePath } from './router'
import { Account } from './screens/Account'
import { Auth } from './screens/Auth'
import { Documents } from './screens/Documents'
import { Members } from './screens/Members'
import { OidcSignIn } from './screens/OidcSignIn'
import { SharedWithMe } from './screens/SharedWithMe'
import { Webhooks } from './screens/Webhooks'
import { Welcome } from './screens/Welcome'

export interface Shell {
  user: User
  workspaces: Workspace[]
  reloadWorkspaces: () => Promise<Workspace[]>
  setUser: (user: User) => void
}

export interface EditorProps { shell: Shell, documentId: string }

// Each editor is its own chunk: a Markdown document loads CodeMirror, a rich one Tiptap, and
// the sign-in and list screens neither. The format is known from the list a document was opened
// from, else asked of the server.
type EditorScreen = ComponentType<EditorProps>
const editorScreens: Partial<Record<DocumentFormat, EditorScreen>> = {}
const loadEditor: Record<DocumentFormat, () => Promise<EditorScreen>> = {
  markdown: () => import('./screens/Editor').then((module) => (editorScreens.markdown = module.Editor)),
  rich: () => import('./screens/RichEditor').then((module) => (editorScreens.rich = module.RichEditor))
}

// Opened straight on a document: fetch the (usual) editor while the session is being restored.
if (location.pathname.startsWith('/d/')) void loadEditor.markdown()

function LazyEditor (props: EditorProps) {
  const [format, setFormat] = useState(() => formatOf(props.documentId))
  const [screen, setScreen] = useState(() => (format && editorScreens[format]) ?? null)
  useEffect(() => {
    if (!format) {
      api.document(props.documentId).then((loaded) => { rememberFormats([loaded]); setFormat(loaded.format ?? 'markdown') }, () => setFormat('markdown'))
    } else if (!screen) {
      void loadEditor[format]().then((loaded) => setScreen(() => loaded))
    }
  }, [format])
  if (!screen) return <main class="loading" aria-busy="true">Opening the editor…</main>
  const Screen = screen
  return <Screen {...props} />
}

export function App () {
  const path = usePath()
  const [user, setUser] = useState<User | null>(null)
  const [workspaces, setWorkspaces] = useState<Workspace[]>([])
  const [booting, setBooting] = useState(true)
  const [signedOut, setSignedOut] = useState(false)

  const reloadWorkspaces = useCallback(async () => {
    const page = await api.workspaces()
    setWorkspaces(page.items)
    return page.items
  }, [])

  const start = useCallback(async () => {
    const [me] = await Promise.all([api.me(), reloadWorkspaces()])
    setUser(me)
    setSignedOut(false)
  }, [reloadWorkspaces])

  useEffect(() => {
    void (async () => {
      if (await refresh()) {
        try { await start() } catch { /* shown as signed out */ }
      }
      setBooting(false)
    })()
    // Back to the tab: pick up workspaces one was invited to (or removed from) meanwhile.
    const onFocus = (): void => { if (auth.token) void reloadWorkspaces().catch(() => {}) }
    window.addEventListener('focus', onFocus)
    const stop = auth.onSignedOut(() => setSignedOut(true))
    return () => { stop(); window.removeEventListener('focus', onFocus) }
  }, [])

  if (booting) return <main class="loading" aria-busy="true">Loading…</main>

  // Back from single sign-on with a one-time code: trade it, then on to the app.
  if (path === '/sign-in/oidc') return <OidcSignIn onDone={start} />

  if (!user) {
    const mode = path === '/register' ? 'register' : 'login'
    return (
      <Auth
        mode={mode}
        onSwitch={(next) => navigate(next === 'register' ? '/register' : '/login')}
        onDone={() => { void start().then(() => { if (path === '/login' || path === '/register') navigate('/', true) }) }}
      />
    )
  }

  const shell: Shell = { user, workspaces, reloadWorkspaces, setUser }
  let screen
  let params: Record<string, string> | null
  if ((params = match('/d/:id', path))) screen = <LazyEditor key={params.id} shell={shell} documentId={params.id} />
  else if ((params = match('/w/:id/members', path))) screen = <Members key={params.id} shell={shell} workspaceId={params.id} />
  else if ((params = match('/w/:id/webhooks', path))) screen = <Webhooks key={params.id} shell={shell} workspaceId={params.id} />
  else if ((params = match('/w/:id', path))) screen = <Documents key={params.id} shell={shell} workspaceId={params.id} />
  else if (path === '/account') screen = <Account shell={shell} />
  else if (path === '/shared') screen = <SharedWithMe />
  else screen = <Welcome shell={shell} />

  return (
    <div class="shell">
      <Header shell={shell} path={path} />
      {screen}
      {signedOut && (
        <div class="overlay" role="dialog" aria-modal="true" aria-label="Sign in again">
          <Auth mode="login" again onDone={() => { void start() }} />
        </div>
      )}
    </div>
  )
}
