// Which editor a document needs, remembered from the lists and creations that named it, so
// opening it from there picks the editor at once (a link from elsewhere asks the server).
import type { DocumentFormat } from './types'

const known = new Map<string, DocumentFormat>()

export function rememberFormats (documents: Array<{ id: string, format?: DocumentFormat }>): void {
  for (const document of documents) if (document.format) known.set(document.id, document.format)
}

export const formatOf = (documentId: string): DocumentFormat | null => known.get(documentId) ?? null
