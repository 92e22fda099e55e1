// The Markdown preview: markdown-it renders, DOMPurify sanitizes (no script, no event handler,
// no javascript: link, no style), then images of attachments are fetched with the bearer token.
import DOMPurify from 'dompurify'
import MarkdownIt from 'markdown-it'
import { fileBlobUrl } from '../api/client'

const markdown = new MarkdownIt({ html: true, linkify: true })
const FILE_URL = /^\/api\/v1\/files\/([0-9a-f-]{36})\/content$/
const blobs = new Map<string, Promise<string>>()

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('rel', 'noopener noreferrer')
    node.setAttribute('target', '_blank')
  }
})

export function renderPreview (target: HTMLElement, source: string): void {
  const clean = DOMPurify.sanitize(markdown.render(source), {
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'],
    FORBID_ATTR: ['style'],
    RETURN_DOM_FRAGMENT: true
  })
  for (const image of Array.from(clean.querySelectorAll('img'))) {
    const found = FILE_URL.exec(image.getAttribute('src') ?? '')
    if (!found) continue
    const fileId = found[1]
    image.removeAttribute('src')
    image.dataset.fileId = fileId
    let url = blobs.get(fileId)
    if (!url) { url = fileBlobUrl(fileId); blobs.set(fileId, url) }
    url.then((src) => { image.src = src }, () => { blobs.delete(fileId); image.alt = `${image.alt} (could not load)` })
  }
  target.replaceChildren(clean)
}
