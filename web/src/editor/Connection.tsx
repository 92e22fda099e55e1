// The connection state both editors show, and what to say once the server closed for good.
import type { CollabState } from './collab'

const LINK_TEXT: Record<CollabState['link'], string> = {
  connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', offline: 'Offline'
}

export function ConnectionBadge (props: { state: CollabState }) {
  const { link, unsynced } = props.state
  return (
    <span class={`badge link-${link}`} role="status" data-testid="connection" data-synced={String(props.state.synced)}>
      {LINK_TEXT[link]}{unsynced ? ' · unsynced changes' : ''}
    </span>
  )
}

const CLOSED_TEXT: Record<number, string> = {
  4403: 'You no longer have access to this document.',
  4404: 'This document was moved to the trash or deleted.'
}

/** The message for a session the server closed for good, or null while it is open. */
export const closedText = (state: CollabState | null): string | null =>
  state?.closed ? CLOSED_TEXT[state.closed.code] ?? `The server closed the document (${state.closed.reason || state.closed.code}).` : null
