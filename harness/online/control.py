"""The control vector of the bias-injection input: decayed averages of the person's signals.

Eight floats, each in [-1, 1], fed through the graph's zero-init control weights (seed 002):

0. rating average (thumbs up +1, down -1), exponentially decayed by age;
1. sentiment average of the person's messages (compound score), decayed the same way;
2. recent rating activity (decayed count, squashed);
3. recent correction activity (decayed count, squashed);
4. the last rating, fading with its age;
5. the last sentiment, fading with its age;
6. time since the last exchange (0 just now, towards 1 after an hour or more);
7. a constant 1 (its zero-init weights learn an offset).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

SIZE = 8
#: the time scale of feature 6 (seconds): an hour of silence reads as about 0.63
IDLE_SCALE_S = 3600.0


@dataclass
class Decayed:
    """A running sum and count whose weights halve every half-life (seed 002's time decay)."""

    total: float = 0.0
    weight: float = 0.0
    at: float = 0.0

    def decayed(self, now: float, half_life_s: float) -> tuple[float, float]:
        """Return (total, weight) decayed to time `now`."""
        factor = 0.5 ** (max(now - self.at, 0.0) / half_life_s)
        return self.total * factor, self.weight * factor

    def add(self, value: float, now: float, half_life_s: float) -> None:
        """Decay to `now`, then add one observation."""
        total, weight = self.decayed(now, half_life_s)
        self.total, self.weight, self.at = total + value, weight + 1.0, now

    def mean(self, now: float, half_life_s: float) -> float:
        """Return the decayed mean (0 before any observation)."""
        total, weight = self.decayed(now, half_life_s)
        return total / weight if weight > 1e-9 else 0.0


@dataclass
class ControlState:
    """What the control vector is computed from; JSON-able so a restart keeps it."""

    half_life_s: float = 24 * 3600.0
    ratings: Decayed = field(default_factory=Decayed)
    sentiment: Decayed = field(default_factory=Decayed)
    corrections: Decayed = field(default_factory=Decayed)
    last_rating: float = 0.0
    last_rating_at: float = 0.0
    last_sentiment: float = 0.0
    last_sentiment_at: float = 0.0
    last_exchange_at: float = 0.0

    def observe(self, kind: str, value: float = 0.0, now: float | None = None) -> None:
        """Record a signal: rating (+1/-1), sentiment (score), correction or exchange."""
        now = time.time() if now is None else now
        hl = self.half_life_s
        if kind == "rating":
            self.ratings.add(value, now, hl)
            self.last_rating, self.last_rating_at = value, now
        elif kind == "sentiment":
            self.sentiment.add(value, now, hl)
            self.last_sentiment, self.last_sentiment_at = value, now
        elif kind == "correction":
            self.corrections.add(1.0, now, hl)
        elif kind == "exchange":
            self.last_exchange_at = now

    def _fade(self, value: float, at: float, now: float) -> float:
        """Return `value` decayed by its age."""
        return value * 0.5 ** (max(now - at, 0.0) / self.half_life_s)

    def vector(self, now: float | None = None) -> list[float]:
        """Return the eight control features at time `now`."""
        now = time.time() if now is None else now
        hl = self.half_life_s
        idle = 1.0 if not self.last_exchange_at else (
            1.0 - math.exp(-max(now - self.last_exchange_at, 0.0) / IDLE_SCALE_S))
        return [
            self.ratings.mean(now, hl),
            self.sentiment.mean(now, hl),
            math.tanh(self.ratings.decayed(now, hl)[1] / 4.0),
            math.tanh(self.corrections.decayed(now, hl)[1] / 4.0),
            self._fade(self.last_rating, self.last_rating_at, now),
            self._fade(self.last_sentiment, self.last_sentiment_at, now),
            idle,
            1.0,
        ]

    def to_dict(self) -> dict[str, Any]:
        """Return the state as plain data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], half_life_s: float) -> ControlState:
        """Rebuild the state from `to_dict` output (unknown or bad data gives a fresh state)."""
        try:
            return cls(
                half_life_s=half_life_s,
                ratings=Decayed(**data["ratings"]),
                sentiment=Decayed(**data["sentiment"]),
                corrections=Decayed(**data["corrections"]),
                last_rating=float(data["last_rating"]),
                last_rating_at=float(data["last_rating_at"]),
                last_sentiment=float(data["last_sentiment"]),
                last_sentiment_at=float(data["last_sentiment_at"]),
                last_exchange_at=float(data["last_exchange_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return cls(half_life_s=half_life_s)
