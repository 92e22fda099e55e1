"""Single sign-on with an OpenID Connect provider (authorization code flow, PKCE, state, nonce)."""
