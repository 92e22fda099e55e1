// Comment anchors on the client: a selection becomes two Yjs relative positions (base64, as the
// server stores them), and a stored anchor is found again in the live text however it moved.
import * as Y from 'yjs'
import type { Anchor, NewAnchor } from '../api/types'

export const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes))
export const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0))

/** The range [from, to) of the text as an anchor: the start sticks to its first character, the end to its last. */
export function anchorOf (text: Y.Text, from: number, to: number): NewAnchor {
  const encode = (index: number, assoc: number): string =>
    toBase64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, index, assoc)))
  return { yjs_from: encode(from, 0), yjs_to: encode(to, -1) }
}

export interface Located { from: number, to: number }

/** Where the anchored text stands now (editor offsets), or null when this copy cannot tell yet. */
export function locate (doc: Y.Doc, anchor: Anchor): Located | null {
  try {
    const start = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromBase64(anchor.yjs_from)), doc)
    const end = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromBase64(anchor.yjs_to)), doc)
    if (!start || !end) return null
    return { from: start.index, to: Math.max(start.index, end.index) }
  } catch {
    return null
  }
}

/** All of the anchored text is gone: what this copy sees, or the server's word when it cannot see. */
export const isOrphaned = (anchor: Anchor, located: Located | null | undefined): boolean =>
  located ? located.from >= located.to : anchor.orphaned
