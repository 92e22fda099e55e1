"""Durable background jobs: one table, one runner, handlers registered by the features."""
