"""Share links: anonymous read access to one document."""
