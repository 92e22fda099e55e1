"""Webhooks: signed deliveries of workspace events from a durable outbox."""
