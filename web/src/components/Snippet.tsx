// A search snippet: server-escaped text whose matches are wrapped in <mark>. Rendered as text
// nodes and <mark> elements only, never as HTML.
const decode = (html: string): string => new DOMParser().parseFromString(html, 'text/html').documentElement.textContent ?? ''

export function Snippet (props: { html: string }) {
  const parts = props.html.split(/(<mark>|<\/mark>)/)
  let marked = false
  const out = []
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]
    if (part === '<mark>') { marked = true; continue }
    if (part === '</mark>') { marked = false; continue }
    if (!part) continue
    out.push(marked ? <mark key={i}>{decode(part)}</mark> : decode(part))
  }
  return <p class="snippet">{out}</p>
}
