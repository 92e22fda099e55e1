"""The production hash cost and the policy, without the test's cheap settings."""

from __future__ import annotations

from argon2 import extract_parameters

from cowrite.auth.passwords import PasswordHasher, password_problem
from cowrite.config import Settings


async def test_default_hash_is_argon2id_with_owasp_cost() -> None:
    defaults = Settings(database_url="sqlite+aiosqlite://", secret_key="s" * 40)
    hasher = PasswordHasher(defaults.password_hash_memory_kib, defaults.password_hash_time_cost)
    encoded = await hasher.hash("a perfectly fine password")
    params = extract_parameters(encoded)
    assert encoded.startswith("$argon2id$")
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert await hasher.verify(encoded, "a perfectly fine password")
    assert not await hasher.verify(encoded, "a perfectly fine passworD")
    assert not await hasher.verify(None, "anything at all")
    assert not await hasher.verify("not-a-hash", "anything at all")


def test_policy() -> None:
    assert password_problem("correct horse battery staple") is None
    assert password_problem("ann@example.com", "ann@example.com") is not None
    assert password_problem("1234567") is not None
    assert password_problem("iloveyou1") is not None
