"""Notification email: the SMTP settings, the messages, the durable outbox and its sender."""
