"""Guarded doors and tokens: participant and session tokens, and slowing down guessers."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    # Participant tokens are 192 random bits, so a fast hash is enough to keep them out of the
    # database in clear while allowing a direct lookup; scrypt is for human-chosen secrets.
    return hashlib.sha256(token.encode()).hexdigest()


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass(frozen=True)
class DoorPolicy:
    """How a guarded door treats failures, counted per subject within a window.

    The first `free` failures cost nothing; each one after that makes the next attempt wait
    `step` seconds more (at most `max_delay`); from `lock` failures on, every attempt is refused
    until `window` has passed since the last failure.
    """

    free: int = 5
    step: float = 1.0
    max_delay: float = 5.0
    lock: int = 10
    window: timedelta = timedelta(minutes=15)

    def delay(self, failures: int) -> float:
        """Seconds the next attempt waits after this many recent failures."""
        if failures < self.free:
            return 0.0
        return min(self.max_delay, self.step * (failures - self.free + 1))


# Join codes are 6 of 32 characters (about 10^9): at 30 guesses per 15 minutes per address,
# finding one open workshop among a hundred takes ten years. The join door is lenient because a
# whole room may share one address (the venue's Wi-Fi) and people mistype codes.
DOORS = {
    ("join", "address"): DoorPolicy(free=10, lock=30),
    # Consultants' passwords: 5 free failures per username, then 1 s more wait per failure (at
    # most 5 s); from 10 failures the account is refused for 15 minutes after the last one,
    # even with the right password. An address (one office may share one) locks at 30.
    ("password", "username"): DoorPolicy(free=5, lock=10),
    ("password", "address"): DoorPolicy(free=10, lock=30),
}


def max_participants() -> int:
    """Participants one workshop accepts (MAX_PARTICIPANTS, default 200)."""
    return _env_int("MAX_PARTICIPANTS", 200)


def workshops_per_hour() -> int:
    """Workshops one client address may create in an hour (WORKSHOPS_PER_HOUR, default 10)."""
    return _env_int("WORKSHOPS_PER_HOUR", 10)
