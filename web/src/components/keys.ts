// Keyboard helpers: `/` focuses search; arrow keys walk a list of links.

const typing = (target: EventTarget | null): boolean =>
  target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))

export function focusSearchOnSlash (input: () => HTMLInputElement | null): (event: KeyboardEvent) => void {
  return (event) => {
    if (event.key === '/' && !event.ctrlKey && !event.metaKey && !typing(event.target)) {
      event.preventDefault()
      input()?.focus()
    }
  }
}

export function arrowNavigation (event: KeyboardEvent, container: HTMLElement | null): void {
  if (!container || (event.key !== 'ArrowDown' && event.key !== 'ArrowUp')) return
  const links = Array.from(container.querySelectorAll<HTMLElement>('[data-nav]'))
  if (links.length === 0) return
  const at = links.indexOf(document.activeElement as HTMLElement)
  const next = event.key === 'ArrowDown' ? Math.min(links.length - 1, at + 1) : Math.max(0, at - 1)
  event.preventDefault()
  links[at === -1 ? 0 : next].focus()
}
