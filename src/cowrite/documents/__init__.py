"""Documents: create, edit, trash, tags."""
