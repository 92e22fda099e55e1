// A workspace's webhooks, for its admins and owners: register a URL for some events (the signing
// secret is shown once), send a test event, read the delivery log, turn one off or on, delete it.
import { useEffect, useState } from 'preact/hooks'
import type { Shell } from '../App'
import { api } from '../api/client'
import { atLeast, WEBHOOK_EVENTS, type Webhook, type WebhookCreated, type WebhookDelivery, type WebhookEvent } from '../api/types'
import { messageOf } from '../components/errors'
import { WorkspaceSidebar } from './Documents'

const when = (iso: string | null): string =>
  iso ? new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'medium' }) : ''

/** A pending delivery with no answer yet is on its way; one that failed waits for its next try. */
const statusOf = (d: WebhookDelivery): string => {
  if (d.status !== 'pending') return d.status
  if (d.status_code === null && d.error === null) return d.attempt > 0 ? 'sending…' : 'queued'
  return d.next_attempt_at ? `retrying (next try ${when(d.next_attempt_at)})` : 'retrying'
}

export function Webhooks (props: { shell: Shell, workspaceId: string }) {
  const workspace = props.shell.workspaces.find((w) => w.id === props.workspaceId)
  const manage = atLeast(workspace?.role, 'admin')
  const [hooks, setHooks] = useState<Webhook[] | null>(null)
  const [url, setUrl] = useState('')
  const [events, setEvents] = useState<WebhookEvent[]>(['document.created', 'document.updated'])
  const [created, setCreated] = useState<WebhookCreated | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const load = async (): Promise<void> => {
    try { setHooks(await api.webhooks(props.workspaceId)) } catch (problem) { setError(messageOf(problem)) }
  }
  useEffect(() => { if (manage) void load() }, [props.workspaceId, manage])

  const toggle = (event: WebhookEvent, on: boolean): void =>
    setEvents(on ? WEBHOOK_EVENTS.filter((e) => e === event || events.includes(e)) : events.filter((e) => e !== event))

  const add = async (submit: Event): Promise<void> => {
    submit.preventDefault()
    setError(null)
    if (events.length === 0) { setError('Choose at least one event.'); return }
    setBusy(true)
    try {
      setCreated(await api.addWebhook(props.workspaceId, url.trim(), events))
      setUrl('')
      await load()
    } catch (problem) {
      setError(messageOf(problem))
    } finally {
      setBusy(false)
    }
  }

  if (!workspace) return <main class="page"><p>This workspace is not yours, or no longer exists.</p></main>
  return (
    <div class="workspace">
      <WorkspaceSidebar shell={props.shell} workspaceId={props.workspaceId} />
      <main class="page webhooks">
        <h1>Webhooks of {workspace.name}</h1>
        {!manage && <p class="muted">Only the workspace's admins and owners manage its webhooks.</p>}
        {manage && (
          <>
            <p class="muted">
              cowrite sends a signed <code>POST</code> to each URL when one of its events happens here, and retries
              for 24 hours. A receiver that keeps failing, or answers 410, is turned off and you are notified.
            </p>
            <form class="card" onSubmit={(e) => { void add(e) }} aria-labelledby="add-webhook">
              <h2 id="add-webhook">Add a webhook</h2>
              <div class="row">
                <label class="grow">Payload URL
                  <input name="webhook-url" type="url" required placeholder="https://example.com/cowrite" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
                </label>
              </div>
              <fieldset class="events">
                <legend class="muted small">Events</legend>
                {WEBHOOK_EVENTS.map((event) => (
                  <label key={event} class="check">
                    <input type="checkbox" name={`event-${event}`} checked={events.includes(event)} onChange={(e) => toggle(event, e.currentTarget.checked)} />
                    {event}
                  </label>
                ))}
              </fieldset>
              <p><button class="primary" type="submit" disabled={busy}>Add webhook</button></p>
            </form>
            {error && <p class="error" role="alert">{error}</p>}
            {created && (
              <div class="secret card" role="status" data-testid="webhook-secret">
                <p><strong>The signing secret of {created.url}</strong> — copy it now; it is not shown again.</p>
                <p><code>{created.secret}</code></p>
                <p class="muted small">Check each delivery's <code>X-Cowrite-Signature</code>: <code>sha256=</code> HMAC-SHA256 of the secret over <code>timestamp + "." + body</code>.</p>
                <button type="button" onClick={() => setCreated(null)}>I have copied it</button>
              </div>
            )}
            {hooks === null && <p class="muted">Loading…</p>}
            {hooks?.length === 0 && <p class="muted">No webhooks yet.</p>}
            <ul class="plain">
              {hooks?.map((hook) => <HookCard key={hook.id} hook={hook} reload={load} />)}
            </ul>
          </>
        )}
      </main>
    </div>
  )
}

function HookCard (props: { hook: Webhook, reload: () => Promise<void> }) {
  const { hook } = props
  const [log, setLog] = useState<WebhookDelivery[] | null>(null)
  const [open, setOpen] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)

  const loadLog = async (): Promise<void> => {
    try {
      const rows = await api.webhookDeliveries(hook.id)
      setLog(rows)
      // A delivery just settled: it may have turned the webhook off (410, retries ran out).
      if (log?.some((d) => d.status === 'pending') && !rows.some((d) => d.status === 'pending')) await props.reload()
    } catch (problem) { setError(messageOf(problem)) }
  }
  // While the log is open and a delivery is still on its way, look again every second.
  const waiting = log?.some((d) => d.status === 'pending') ?? false
  useEffect(() => {
    if (!open) return
    if (log === null) { void loadLog(); return }
    if (!waiting) return
    const timer = setTimeout(() => { void loadLog() }, 1000)
    return () => clearTimeout(timer)
  }, [open, log])

  const run = async (action: () => Promise<unknown>, done?: string): Promise<void> => {
    setError(null); setNotice(null)
    try { await action(); if (done) setNotice(done) } catch (problem) { setError(messageOf(problem)) }
  }
  const test = (): Promise<void> => run(async () => {
    await api.testWebhook(hook.id)
    setOpen(true)
    await loadLog()
  }, 'A test event is on its way.')
  const remove = (): Promise<void> => run(async () => {
    if (!confirm(`Delete the webhook to ${hook.url}? Its delivery log goes too.`)) return
    await api.deleteWebhook(hook.id)
    await props.reload()
  })

  return (
    <li class="card hook" aria-label={`Webhook ${hook.url}`}>
      <div class="hook-head">
        <span class="hook-url">{hook.url}</span>
        <span class={hook.active ? 'state-on' : 'state-off'} data-testid="webhook-state">{hook.active ? 'On' : 'Off'}</span>
      </div>
      {!hook.active && hook.disabled_reason && <p class="muted small">Turned off: {hook.disabled_reason}</p>}
      <p class="small">{hook.events.map((event) => <span key={event} class="tag">{event}</span>)}</p>
      <div class="row">
        <button type="button" onClick={() => { void test() }} disabled={!hook.active}>Send test event</button>
        <button type="button" aria-pressed={open} onClick={() => { setOpen(!open); if (!open) setLog(null) }}>Deliveries</button>
        <button type="button" onClick={() => { void run(async () => { await api.updateWebhook(hook.id, { active: !hook.active }); await props.reload() }) }}>
          {hook.active ? 'Turn off' : 'Turn on'}
        </button>
        <button type="button" class="danger" onClick={() => { void remove() }}>Delete</button>
      </div>
      {error && <p class="error small" role="alert">{error}</p>}
      {notice && <p class="notice small" role="status">{notice}</p>}
      {open && (
        <section aria-label={`Deliveries to ${hook.url}`}>
          {log === null && <p class="muted small">Loading…</p>}
          {log?.length === 0 && <p class="muted small">Nothing sent yet.</p>}
          {log && log.length > 0 && (
            <table class="deliveries">
              <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Response</th><th scope="col">Attempts</th><th scope="col">Created</th><th scope="col">Delivery id</th></tr></thead>
              <tbody>
                {log.map((d) => (
                  <tr key={d.id} data-testid="delivery">
                    <td>{d.event}</td>
                    <td class={`status-${d.status}`}>{statusOf(d)}</td>
                    <td>{d.status_code ?? ''}{d.error ? ` ${d.error}` : ''}</td>
                    <td>{d.attempt}</td>
                    <td>{when(d.created_at)}</td>
                    <td class="muted"><code>{d.id}</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </li>
  )
}
