"""Blob storage behind one Protocol."""
