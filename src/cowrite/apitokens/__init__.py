"""Personal API tokens: `cwp_` bearer tokens for scripts, REST only."""
