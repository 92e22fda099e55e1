// One list of the people in the document, merged from Yjs awareness and the presence socket.
import type { Awareness } from 'y-protocols/awareness'
import { colorOf, initials } from './colors'
import type { PresencePeer } from './presence'

export interface Person { id: string, name: string, color: string, typing: boolean, editing: boolean }

interface AwarenessUser { id?: string, name?: string, color?: string }

export function mergePeople (awareness: Awareness, peers: PresencePeer[], me: string): Person[] {
  const people = new Map<string, Person>()
  for (const [clientId, state] of awareness.getStates()) {
    const user = (state as { user?: AwarenessUser }).user
    if (clientId === awareness.clientID || !user?.id || user.id === me) continue
    people.set(user.id, { id: user.id, name: user.name ?? 'Someone', color: user.color ?? colorOf(user.id).color, typing: false, editing: false })
  }
  for (const peer of peers) {
    if (peer.user_id === me) continue
    const person = people.get(peer.user_id) ?? { id: peer.user_id, name: peer.full_name, color: colorOf(peer.user_id).color, typing: false, editing: false }
    person.typing ||= peer.is_typing
    person.editing ||= peer.is_editing
    people.set(peer.user_id, person)
  }
  return [...people.values()].sort((a, b) => a.name.localeCompare(b.name))
}

export function People (props: { people: Person[] }) {
  const typing = props.people.filter((p) => p.typing)
  return (
    <div class="people">
      <ul class="avatars" aria-label="People in this document">
        {props.people.map((person) => (
          <li key={person.id} class="avatar" style={`background:${person.color}`} title={`${person.name}${person.editing ? ' (editing)' : ''}`}>
            <span aria-hidden="true">{initials(person.name)}</span>
            <span class="visually-hidden">{person.name}{person.editing ? ', editing' : ''}</span>
            {person.editing && <span class="editing-dot" aria-hidden="true" />}
          </li>
        ))}
      </ul>
      <span class="typing" aria-live="polite">
        {typing.length > 0 && `${typing.map((p) => p.name).join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…`}
      </span>
    </div>
  )
}
