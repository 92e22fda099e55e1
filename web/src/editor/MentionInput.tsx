// A comment box that completes `@name` from the workspace's members into `@[Full Name](user:<uuid>)`.
import { useRef, useState } from 'preact/hooks'
import type { Member } from '../api/types'

const QUERY = /(^|\s)@([^\s@[\]()]{0,40})$/

let boxes = 0

export function MentionInput (props: { label: string, value: string, onInput: (value: string) => void, members: Member[], me: string, placeholder?: string }) {
  const [query, setQuery] = useState<string | null>(null)
  const [choice, setChoice] = useState(0)
  const box = useRef<HTMLTextAreaElement>(null)
  const id = useRef(`mention-${++boxes}`)
  const matches = query === null
    ? []
    : props.members.filter((m) => m.user_id !== props.me && m.full_name.toLowerCase().includes(query.toLowerCase())).slice(0, 6)
  const open = matches.length > 0

  const follow = (value: string, caret: number): void => {
    const found = QUERY.exec(value.slice(0, caret))
    setQuery(found ? found[2] : null)
    setChoice(0)
  }
  const pick = (member: Member): void => {
    const area = box.current
    if (!area || query === null) return
    const caret = area.selectionStart
    const start = caret - query.length - 1
    const mention = `@[${member.full_name.replace(/[[\]]/g, '')}](user:${member.user_id}) `
    const value = props.value.slice(0, start) + mention + props.value.slice(caret)
    props.onInput(value)
    setQuery(null)
    requestAnimationFrame(() => { area.focus(); area.setSelectionRange(start + mention.length, start + mention.length) })
  }
  const onKeyDown = (event: KeyboardEvent): void => {
    if (!open) return
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault()
      setChoice((at) => (at + (event.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length)
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault()
      pick(matches[choice])
    } else if (event.key === 'Escape') {
      setQuery(null)
    }
  }

  return (
    <div class="mention-input">
      <label class="visually-hidden" for={id.current}>{props.label}</label>
      <textarea id={id.current} ref={box} rows={3} value={props.value} placeholder={props.placeholder}
        aria-autocomplete="list" aria-controls={`${id.current}-list`}
        aria-activedescendant={open ? `${id.current}-${choice}` : undefined}
        onInput={(e) => { const area = e.currentTarget; props.onInput(area.value); follow(area.value, area.selectionStart) }}
        onKeyDown={onKeyDown} onBlur={() => setTimeout(() => setQuery(null), 150)} />
      <ul id={`${id.current}-list`} role="listbox" aria-label="People to mention" class="mentions" hidden={!open}>
        {matches.map((member, at) => (
          <li key={member.user_id} id={`${id.current}-${at}`} role="option" aria-selected={at === choice}
            onMouseDown={(e) => { e.preventDefault(); pick(member) }}>
            {member.full_name} <span class="muted small">{member.email}</span>
          </li>
        ))}
      </ul>
    </div>
  )
}
