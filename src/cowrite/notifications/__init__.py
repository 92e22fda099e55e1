"""Notifications: made from domain events off the request path, read over REST, pushed live on
`/ws`, and mailed (optionally) from a durable outbox when they stay unread."""
