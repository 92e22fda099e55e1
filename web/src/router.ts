// A small client-side router on the History API: the server answers every such path with the app.
import { useEffect, useState } from 'preact/hooks'

const listeners = new Set<() => void>()

export function navigate (path: string, replace = false): void {
  if (path === location.pathname + location.search) return
  if (replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  listeners.forEach((listener) => listener())
}

window.addEventListener('popstate', () => listeners.forEach((listener) => listener()))

export function usePath (): string {
  const [path, setPath] = useState(location.pathname)
  useEffect(() => {
    const update = (): void => setPath(location.pathname)
    listeners.add(update)
    return () => { listeners.delete(update) }
  }, [])
  return path
}

/** The query string (`?comment=…`), following in-app navigation like `usePath`. */
export function useSearch (): string {
  const [search, setSearch] = useState(location.search)
  useEffect(() => {
    const update = (): void => setSearch(location.search)
    listeners.add(update)
    return () => { listeners.delete(update) }
  }, [])
  return search
}

/** Match `/d/:id`-style patterns; answers the named parts or null. */
export function match (pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/')
  const have = path.split('/')
  if (want.length !== have.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(have[i])
    else if (want[i] !== have[i]) return null
  }
  return params
}

/** Links that route in the page, keeping ctrl/middle-click for new tabs. */
export function onLink (event: MouseEvent, path: string): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  event.preventDefault()
  navigate(path)
}
