"""Running cowrite: start-up checks, `cowrite doctor`, the start-up banner, proxy trust."""
