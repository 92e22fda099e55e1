"""Data in and out: document and workspace exports, imports, backups."""
