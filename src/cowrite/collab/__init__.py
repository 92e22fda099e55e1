"""Collab."""
