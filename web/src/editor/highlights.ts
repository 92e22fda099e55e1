// The comment highlights in CodeMirror: marks set from the anchors, mapped through every edit
// until the anchors are located again in the Yjs text.
import { type Extension, StateEffect, StateField } from '@codemirror/state'
import { Decoration, type DecorationSet, EditorView } from '@codemirror/view'

export interface Highlight { id: string, from: number, to: number }
interface Marks { list: Highlight[], active: string | null }

export const setHighlights = StateEffect.define<Marks>()

function build ({ list, active }: Marks, length: number): DecorationSet {
  const ranges = list
    .filter((h) => h.from < h.to && h.to <= length)
    .map((h) => Decoration.mark({
      class: h.id === active ? 'cm-comment cm-comment-active' : 'cm-comment',
      attributes: { 'data-thread': h.id }
    }).range(h.from, h.to))
  return Decoration.set(ranges, true)
}

const highlights = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update (marks, tr) {
    for (const effect of tr.effects) if (effect.is(setHighlights)) return build(effect.value, tr.state.doc.length)
    return marks.map(tr.changes)
  },
  provide: (field) => EditorView.decorations.from(field)
})

/** The field, and a click on a highlight naming its thread. */
export function commentHighlights (onThread: (id: string) => void): Extension {
  return [
    highlights,
    EditorView.domEventHandlers({
      click (event) {
        const mark = (event.target as HTMLElement | null)?.closest?.('.cm-comment')
        const id = mark?.getAttribute('data-thread')
        if (id) onThread(id)
        return false
      }
    })
  ]
}
