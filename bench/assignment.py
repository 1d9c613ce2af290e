"""How long balanced room assignment takes, by number of people and rooms.

    .venv/bin/python bench/assignment.py
"""
from __future__ import annotations

import random
import time
from collections import Counter

from forum.services.assignment import Person, RoomSlot, balanced_assignment

COUNTRIES = [f"C{n:02d}" for n in range(27)]
TYPES = ["ngo", "local_authority", "research", "trade_union", "employers", "migrant_led", "managing_authority"]


def run(people_count: int, room_count: int) -> None:
    rng = random.Random(people_count)
    people = [Person(i, rng.choice(COUNTRIES), rng.choice(TYPES)) for i in range(people_count)]
    rooms = [RoomSlot(1000 + r, None) for r in range(room_count)]
    started = time.perf_counter()
    result = balanced_assignment(people, rooms)
    elapsed = time.perf_counter() - started
    sizes = Counter(result.values()).values()
    print(f"{people_count:>6} people, {room_count:>3} rooms: {elapsed * 1000:8.1f} ms, "
          f"room sizes {min(sizes)}-{max(sizes)}")


if __name__ == "__main__":
    for people_count, room_count in ((48, 4), (200, 8), (1000, 20), (5000, 50)):
        run(people_count, room_count)
