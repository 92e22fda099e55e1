// CodeMirror 6 bound to the shared Y.Text: minimal setup, Markdown, remote carets from awareness,
// a read-only switch, and paste/drop of files.
import { markdown } from '@codemirror/lang-markdown'
import { Compartment, EditorState } from '@codemirror/state'
import { EditorView, minimalSetup } from 'codemirror'
import { yCollab } from 'y-codemirror.next'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { commentHighlights, type Highlight, setHighlights } from './highlights'

export interface EditorHooks {
  onLocalEdit: () => void
  onFocus: (focused: boolean) => void
  onFiles: (files: File[], at: number) => void
  onThread: (id: string) => void
}

const files = (list: FileList | null | undefined): File[] => Array.from(list ?? [])

// The editor writes its styles into a <style> element; the page's policy admits it by this nonce.
const styleNonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? ''


export function createEditor (parent: HTMLElement, text: Y.Text, awareness: Awareness, readOnly: boolean, hooks: EditorHooks) {
  const access = new Compartment()
  const accessOf = (ro: boolean) => [EditorState.readOnly.of(ro), EditorView.editable.of(!ro)]
  const undoManager = new Y.UndoManager(text)
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text.toString(),
      extensions: [
        EditorView.cspNonce.of(styleNonce),
        minimalSetup,
        markdown(),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': 'Document text' }),
        access.of(accessOf(readOnly)),
        yCollab(text, awareness, { undoManager }),
        commentHighlights((id) => hooks.onThread(id)),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && update.transactions.some((tr) => tr.isUserEvent('input') || tr.isUserEvent('delete'))) hooks.onLocalEdit()
          if (update.focusChanged) hooks.onFocus(update.view.hasFocus)
        }),
        EditorView.domEventHandlers({
          paste (event, view) {
            const pasted = files(event.clipboardData?.files)
            if (pasted.length === 0 || view.state.readOnly) return false
            event.preventDefault()
            hooks.onFiles(pasted, view.state.selection.main.head)
            return true
          },
          drop (event, view) {
            const dropped = files(event.dataTransfer?.files)
            if (dropped.length === 0 || view.state.readOnly) return false
            event.preventDefault()
            const at = view.posAtCoords({ x: event.clientX, y: event.clientY }) ?? view.state.selection.main.head
            hooks.onFiles(dropped, at)
            return true
          }
        })
      ]
    })
  })
  return {
    view,
    setReadOnly (ro: boolean): void { view.dispatch({ effects: access.reconfigure(accessOf(ro)) }) },
    insert (at: number, snippet: string): void {
      const pos = Math.min(at, view.state.doc.length)
      view.dispatch({ changes: { from: pos, insert: snippet }, selection: { anchor: pos + snippet.length }, userEvent: 'input.paste' })
    },
    setHighlights (list: Highlight[], active: string | null): void { view.dispatch({ effects: setHighlights.of({ list, active }) }) },
    /** The selected range: the editor's own, or the page's selection inside a read-only editor. */
    selection (): { from: number, to: number } | null {
      const main = view.state.selection.main
      if (!main.empty) return { from: main.from, to: main.to }
      const dom = document.getSelection()
      if (!dom || dom.rangeCount === 0 || dom.isCollapsed) return null
      const range = dom.getRangeAt(0)
      if (!view.contentDOM.contains(range.startContainer) || !view.contentDOM.contains(range.endContainer)) return null
      try {
        const from = view.posAtDOM(range.startContainer, range.startOffset)
        const to = view.posAtDOM(range.endContainer, range.endOffset)
        return from < to ? { from, to } : null
      } catch { return null }
    },
    reveal (at: number): void {
      view.dispatch({ effects: EditorView.scrollIntoView(Math.min(at, view.state.doc.length), { y: 'center' }) })
    },
    destroy (): void { view.destroy(); undoManager.destroy() }
  }
}
export type Editor = ReturnType<typeof createEditor>
