"""The web app: the built single-page app served at `/` by the server itself."""
