"""Accounts: registration, login, token rotation and revocation."""
