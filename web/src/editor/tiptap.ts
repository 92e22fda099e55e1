// The rich-text editor: Tiptap (StarterKit, images, task lists) bound to the document's
// Y.XmlFragment `default`, with everyone's carets labelled from Yjs awareness. The same schema
// as the server's converter, so what one person formats reaches the others and the REST content.
import { Editor as TiptapEditor } from '@tiptap/core'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import Image from '@tiptap/extension-image'
import { TaskItem, TaskList } from '@tiptap/extension-list'
import StarterKit from '@tiptap/starter-kit'
import type * as Y from 'yjs'
import type { Awareness } from 'y-protocols/awareness'
import './tiptap.css'

export const FRAGMENT_NAME = 'default'

export interface RichHooks {
  onLocalEdit: () => void
  onFocus: (focused: boolean) => void
  /** The editor's state changed (selection, marks): the toolbar redraws. */
  onState: () => void
}

/** What awareness says about this person (`name` and `color` label their caret). */
export type CaretUser = Record<string, unknown> & { name: string, color: string }

/** A remote caret: a thin bar in the person's colour with their name above it. */
function caret (user: Record<string, unknown>): HTMLElement {
  const bar = document.createElement('span')
  bar.className = 'rich-caret'
  bar.style.borderColor = String(user.color ?? '#888')
  const label = document.createElement('span')
  label.className = 'rich-caret-label'
  label.style.backgroundColor = String(user.color ?? '#888')
  label.textContent = String(user.name ?? 'Someone')
  bar.append(label)
  return bar
}

export function createRichEditor (parent: HTMLElement, doc: Y.Doc, awareness: Awareness, user: CaretUser, readOnly: boolean, hooks: RichHooks) {
  const editor = new TiptapEditor({
    element: parent,
    editable: !readOnly,
    // The page's style sheet carries ProseMirror's rules: the policy allows no injected <style>.
    injectCSS: false,
    extensions: [
      // Undo and redo come from Yjs (Collaboration), which undoes only one's own edits.
      StarterKit.configure({ undoRedo: false }),
      Image,
      TaskList,
      TaskItem.configure({ nested: true }),
      Collaboration.configure({ document: doc, field: FRAGMENT_NAME }),
      CollaborationCaret.configure({ provider: { awareness }, user, render: caret })
    ],
    editorProps: { attributes: { 'aria-label': 'Document', 'aria-multiline': 'true', role: 'textbox', class: 'rich-content' } },
    onUpdate: ({ transaction }) => { if (!transaction.getMeta('y-sync$')) hooks.onLocalEdit() },
    onSelectionUpdate: () => hooks.onState(),
    onTransaction: () => hooks.onState(),
    onFocus: () => hooks.onFocus(true),
    onBlur: () => hooks.onFocus(false)
  })
  return {
    tiptap: editor,
    setReadOnly (value: boolean): void { editor.setEditable(!value) },
    destroy (): void { editor.destroy() }
  }
}

export type RichEditor = ReturnType<typeof createRichEditor>
