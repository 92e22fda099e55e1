"""cowrite: a self-hostable real-time collaborative document server."""

__version__ = "0.1.0"
