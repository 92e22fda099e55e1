// The rich-text editor: Tiptap (StarterKit, images, task lists) bound to the document's
// Y.XmlFragment `default`, with everyone's carets labelled from Yjs awareness. The same schema
// as the server's converter, so what one person formats reaches the others and the REST content.
import { Editor as TiptapEditor, Extension } from '@tiptap/core'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import Image from '@tiptap/extension-image'
import { TaskItem, TaskList } from '@tiptap/extension-list'
import { Plugin, PluginKey } from '@tiptap/pm/state'
import { Decoration, DecorationSet } from '@tiptap/pm/view'
import StarterKit from '@tiptap/starter-kit'
import { relativePositionToAbsolutePosition, ySyncPluginKey } from '@tiptap/y-tiptap'
import * as Y from 'yjs'
import type { Awareness } from 'y-protocols/awareness'
import type { Anchor, NewAnchor } from '../api/types'
import { fromBase64, type Located, toBase64 } from './anchors'
import type { Highlight } from './highlights'
import './tiptap.css'

export const FRAGMENT_NAME = 'default'

export interface RichHooks {
  onLocalEdit: () => void
  onFocus: (focused: boolean) => void
  /** The editor's state changed (selection, marks): the toolbar redraws. */
  onState: () => void
  /** A comment highlight was clicked. */
  onThread: (id: string) => void
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

const highlightsKey = new PluginKey<DecorationSet>('commentHighlights')

/** Comment highlights: set from the anchors, mapped through every edit until they are located
 *  again; a click on one opens its thread. */
function commentHighlights (onThread: (id: string) => void) {
  return Extension.create({
    name: 'commentHighlights',
    addProseMirrorPlugins: () => [new Plugin<DecorationSet>({
      key: highlightsKey,
      state: {
        init: () => DecorationSet.empty,
        apply: (tr, set) => (tr.getMeta(highlightsKey) as DecorationSet | undefined) ?? set.map(tr.mapping, tr.doc)
      },
      props: {
        decorations: (state) => highlightsKey.getState(state),
        handleClick: (view, pos) => {
          const found = highlightsKey.getState(view.state)?.find(pos, pos) ?? []
          if (found.length) onThread((found[0].spec as { thread: string }).thread)
          return false
        }
      }
    })]
  })
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
      CollaborationCaret.configure({ provider: { awareness }, user, render: caret }),
      commentHighlights(hooks.onThread)
    ],
    editorProps: { attributes: { 'aria-label': 'Document', 'aria-multiline': 'true', role: 'textbox', class: 'rich-content' } },
    // Changes that came from Yjs (other people) are not this person typing.
    onUpdate: ({ transaction }) => { if (!(transaction.getMeta(ySyncPluginKey) as { isChangeOrigin?: boolean } | undefined)?.isChangeOrigin) hooks.onLocalEdit() },
    onSelectionUpdate: () => hooks.onState(),
    onTransaction: () => hooks.onState(),
    onFocus: () => hooks.onFocus(true),
    onBlur: () => hooks.onFocus(false)
  })
  const fragment = doc.getXmlFragment(FRAGMENT_NAME)
  const mapping = () => ySyncPluginKey.getState(editor.state)?.binding?.mapping

  /** A position in the document as a place in one of the fragment's text nodes (null between blocks). */
  const inText = (pos: number, assoc: number): Y.RelativePosition | null => {
    const $pos = editor.state.doc.resolve(pos)
    const block = $pos.parent
    if (!block.isTextblock) return null
    let element: Y.XmlElement | null = null
    for (const [type, node] of mapping() ?? []) {
      if (node === block && type instanceof Y.XmlElement) { element = type; break }
    }
    if (!element) return null
    // Walk the block's children: text nodes count their length, inline nodes one.
    let left = $pos.parentOffset
    for (const child of element.toArray()) {
      if (child instanceof Y.XmlText) {
        if (left <= child.length) return Y.createRelativePositionFromTypeIndex(child, left, assoc)
        left -= child.length
      } else if (--left < 0) {
        return null
      }
    }
    return null
  }

  return {
    tiptap: editor,
    setReadOnly (value: boolean): void { editor.setEditable(!value) },
    /** The selection, when it is some text. */
    selection (): { from: number, to: number } | null {
      const { from, to, empty } = editor.state.selection
      return empty ? null : { from, to }
    },
    /** An anchor over [from, to): the start sticks to its first character, the end to its last. */
    anchorOf (from: number, to: number): NewAnchor | null {
      const start = inText(from, 0)
      const end = inText(to, -1)
      if (!start || !end) return null
      return { yjs_from: toBase64(Y.encodeRelativePosition(start)), yjs_to: toBase64(Y.encodeRelativePosition(end)) }
    },
    quote (from: number, to: number): string { return editor.state.doc.textBetween(from, to, '\n') },
    locate (anchor: Anchor): Located | null {
      const map = mapping()
      if (!map) return null
      try {
        const at = (encoded: string): number | null =>
          relativePositionToAbsolutePosition(doc, fragment, Y.decodeRelativePosition(fromBase64(encoded)), map)
        const from = at(anchor.yjs_from)
        const to = at(anchor.yjs_to)
        if (from === null || to === null) return null
        return { from, to: Math.max(from, to) }
      } catch {
        return null
      }
    },
    setHighlights (list: Highlight[], active: string | null): void {
      const size = editor.state.doc.content.size
      const set = DecorationSet.create(editor.state.doc, list
        .filter((h) => h.from < h.to && h.to <= size)
        .map((h) => Decoration.inline(h.from, h.to, {
          class: h.id === active ? 'rich-comment rich-comment-active' : 'rich-comment',
          'data-thread': h.id
        }, { thread: h.id })))
      editor.view.dispatch(editor.state.tr.setMeta(highlightsKey, set).setMeta('addToHistory', false))
    },
    reveal (at: number): void {
      const pos = Math.min(at, editor.state.doc.content.size)
      const { node } = editor.view.domAtPos(pos)
      const element = node instanceof Element ? node : node.parentElement
      element?.scrollIntoView({ block: 'center' })
    },
    destroy (): void { editor.destroy() }
  }
}

export type RichEditor = ReturnType<typeof createRichEditor>
