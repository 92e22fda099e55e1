// The Markdown preview: markdown-it renders, DOMPurify sanitizes (no script, no event handler,
// no javascript: link, no style), then images of attachments are fetched with the bearer token.
import DOMPurify from 'dompurify'
import MarkdownIt from 'markdown-it'
import { fileBlobUrl } from '../api/client'

const markdown = new MarkdownIt({ html: true, linkify: true })
// Comment bodies: no raw HTML, and a mention `@[Name](user:<uuid>)` reads as a name, not a link.
const commentMarkdown = new MarkdownIt({ html: false, linkify: true })
commentMarkdown.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const href = tokens[idx].attrGet('href') ?? ''
  if (!href.startsWith('user:')) return self.renderToken(tokens, idx, options)
  const close = tokens.slice(idx + 1).find((t) => t.type === 'link_close' && t.level === tokens[idx].level)
  if (close) close.meta = 'mention'
  return `<span class="mention" data-user="${commentMarkdown.utils.escapeHtml(href.slice(5))}">`
}
commentMarkdown.renderer.rules.link_close = (tokens, idx, options, _env, self) =>
  tokens[idx].meta === 'mention' ? '</span>' : self.renderToken(tokens, idx, options)
const FILE_URL = /^\/api\/v1\/files\/([0-9a-f-]{36})\/content$/
const blobs = new Map<string, Promise<string>>()

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('rel', 'noopener noreferrer')
    node.setAttribute('target', '_blank')
  }
})

const sanitize = (html: string): DocumentFragment => DOMPurify.sanitize(html, {
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'],
  FORBID_ATTR: ['style'],
  RETURN_DOM_FRAGMENT: true
})

/** A comment's Markdown body, rendered and sanitized like the preview. */
export function renderComment (target: HTMLElement, source: string): void {
  target.replaceChildren(sanitize(commentMarkdown.render(source)))
}

export function renderPreview (target: HTMLElement, source: string): void {
  const clean = sanitize(markdown.render(source))
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
