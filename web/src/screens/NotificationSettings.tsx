// Which notifications also come by email, and how long an unread one waits before it is mailed.
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/client'
import type { NotificationKind, NotificationSettings as Settings } from '../api/types'
import { messageOf } from '../components/errors'

const KINDS: Array<[NotificationKind, string]> = [
  ['mention', 'Someone mentions me'],
  ['reply', 'A reply in a thread I wrote in'],
  ['comment', 'A new comment on a document I follow'],
  ['document_updated', 'Edits to a document I follow'],
  ['added_to_workspace', 'I am added to a workspace'],
  ['role_changed', 'My role changes'],
  ['document_shared', 'A document is shared with me'],
  ['webhook_turned_off', 'A webhook of a workspace I administer is turned off']
]

export function NotificationSettings () {
  const [settings, setSettings] = useState<Settings | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  useEffect(() => { void api.notificationSettings().then(setSettings, (problem: unknown) => setError(messageOf(problem))) }, [])

  const save = async (): Promise<void> => {
    if (!settings) return
    setError(null); setNotice(null)
    try { setSettings(await api.saveNotificationSettings(settings)); setNotice('Notification settings saved.') } catch (problem) { setError(messageOf(problem)) }
  }

  return (
    <section class="card">
      <h2>Email notifications</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {notice && <p class="notice" role="status">{notice}</p>}
      {settings && (
        <form onSubmit={(e) => { e.preventDefault(); void save() }}>
          <p class="muted small">Notifications always show under the bell; these also come by email while unread.</p>
          <fieldset class="kinds">
            <legend class="visually-hidden">Email me when</legend>
            {KINDS.map(([kind, label]) => (
              <label key={kind} class="check">
                <input type="checkbox" name={`email-${kind}`} checked={settings.email[kind] ?? false}
                  onChange={(e) => setSettings({ ...settings, email: { ...settings.email, [kind]: e.currentTarget.checked } })} />
                {label}
              </label>
            ))}
          </fieldset>
          <div class="row">
            <label>Minutes to wait before emailing
              <input type="number" min={0} max={10080} required value={settings.email_delay_minutes}
                onInput={(e) => setSettings({ ...settings, email_delay_minutes: Number(e.currentTarget.value) })} />
            </label>
            <button class="primary" type="submit">Save notification settings</button>
          </div>
        </form>
      )}
    </section>
  )
}
