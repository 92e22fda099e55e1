"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "common_passwords.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why this password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Password must be at most {MAX_LENGTH} characters"
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        return "Password is too common"
    if email and lowered in {email.lower(), email.split("@")[0].lower()}:
        return "Password must not be your email"
    return None


def _hashing_threads() -> int:
    """Leave a core to the event loop: a burst of logins queues instead of starving it (and
    each hash in flight holds its memory cost)."""
    return max(1, (os.cpu_count() or 2) - 1)


class PasswordHasher:
    """argon2id; hashing runs in a few worker threads of its own so the event loop stays free."""

    def __init__(self, memory_kib: int, time_cost: int) -> None:
        self._threads = ThreadPoolExecutor(_hashing_threads(), thread_name_prefix="password")
        self._hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID
        )
        # Unknown emails are verified against this so both answers cost the same time.
        self._dummy = self._hasher.hash("cowrite-timing-equalizer")

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._threads, self._verify, password_hash or self._dummy, password
        )

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
