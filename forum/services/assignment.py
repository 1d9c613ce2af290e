"""Spreading participants over breakout rooms so that each room mixes countries and organisation types.

Pure and dependency-free: callers pass plain values and store the result themselves.

The rule for one person: an open room (below capacity) with the fewest people; among those, the one
with the fewest people of the person's country, then of the person's organisation type; then the
first in room order. ``place_late_arrival`` applies it once. ``balanced_assignment`` applies it to
everyone, sorted by country (largest country first, ties by code), organisation type and key, then
swaps pairs of people between rooms while that strictly lowers the *score*: the sum over rooms of the
squared count of each country plus the squared count of each organisation type (occupants included).

Guarantees (tests/services/test_assignment.py checks each):
* Everyone gets exactly one room; no room goes above its capacity (NoRoomAvailable if that is
  impossible). The result depends on the people given, not on their order.
* Sizes: if a room received someone, every room still below capacity ends with at least its size
  minus one. So without capacities, and with occupants whose rooms differ by at most one, all rooms
  end within one of each other.
* Countries: with no capacities (or one capacity shared by all rooms), occupants' rooms within one
  of each other and no occupant from country C, C's n people end within one of each other across
  the r rooms: no room holds more than ceil(n / r) of them and they are in min(n, r) rooms.
* Swaps never change a room's size, never move an occupant and never raise any single country's
  sum of squared per-room counts; they stop when no such swap lowers the score. Organisation types
  have no hard bound: this local search is what spreads them.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["NoRoomAvailable", "Person", "RoomSlot", "balanced_assignment", "place_late_arrival"]

Cell = tuple[str, str]  # (country, organisation type): people in one cell are interchangeable


class NoRoomAvailable(ValueError):
    """The rooms' capacities cannot hold everyone. Carries numbers, not text: the caller words it."""

    def __init__(self, needed: int, available: int):
        self.needed, self.available = needed, available
        super().__init__(needed, available)


@dataclass(frozen=True)
class Person:
    key: int  # user id
    country: str  # ISO code
    organisation_type: str


@dataclass(frozen=True)
class RoomSlot:
    key: int  # room id
    capacity: int | None  # None = unlimited


class _Rooms:
    """Per-room counts, so that each choice and each swap costs O(1) to evaluate."""

    def __init__(self, rooms: Sequence[RoomSlot], occupants: Mapping[int, Sequence[Person]] | None):
        self.slots = list(rooms)
        index = {room.key: i for i, room in enumerate(self.slots)}
        if len(index) != len(self.slots):
            raise ValueError("duplicate room key")
        occupants = occupants or {}
        if unknown := set(occupants) - index.keys():
            raise ValueError(f"occupants of unknown rooms {sorted(unknown)}")
        count = len(self.slots)
        self.size = [0] * count
        self.country: list[Counter[str]] = [Counter() for _ in range(count)]
        self.org: list[Counter[str]] = [Counter() for _ in range(count)]
        # Only people placed by this call may be swapped; occupants count but stay put.
        self.movable: list[defaultdict[Cell, list[int]]] = [defaultdict(list) for _ in range(count)]
        self.keys: set[int] = set()
        for room_key, persons in occupants.items():
            for person in persons:
                self._admit(person.key)
                self._count(index[room_key], (person.country, person.organisation_type), 1)

    def _admit(self, key: int) -> None:
        if key in self.keys:
            raise ValueError(f"person {key} given twice")
        self.keys.add(key)

    def _count(self, i: int, cell: Cell, step: int) -> None:
        self.size[i] += step
        self.country[i][cell[0]] += step
        self.org[i][cell[1]] += step

    def is_open(self, i: int) -> bool:
        capacity = self.slots[i].capacity
        return capacity is None or self.size[i] < capacity

    def free_places(self) -> float:
        if any(room.capacity is None for room in self.slots):
            return float("inf")
        return sum(max(0, room.capacity - size) for room, size in zip(self.slots, self.size, strict=True))

    def choose(self, person: Person) -> int:
        candidates = [i for i in range(len(self.slots)) if self.is_open(i)]
        if not candidates:
            raise NoRoomAvailable(1, 0)
        # Size first keeps rooms within one; country before organisation type because the
        # organiser's first wish is that no room is dominated by one country.
        return min(candidates, key=lambda i: (
            self.size[i], self.country[i][person.country], self.org[i][person.organisation_type], i))

    def place(self, person: Person) -> None:
        self._admit(person.key)
        i = self.choose(person)
        cell = (person.country, person.organisation_type)
        self._count(i, cell, 1)
        self.movable[i][cell].append(person.key)

    def _swap_change(self, a: int, b: int, cell_a: Cell, cell_b: Cell) -> int | None:
        """Half the change in score from swapping one of cell_a (in a) with one of cell_b (in b),
        or None if the swap would make a country more lopsided.

        Moving one x from a to b changes a's x² + b's x² by 2 * (b_x - a_x + 1)."""
        change = 0
        if cell_a[0] != cell_b[0]:
            out_a = self.country[b][cell_a[0]] - self.country[a][cell_a[0]] + 1
            out_b = self.country[a][cell_b[0]] - self.country[b][cell_b[0]] + 1
            if out_a > 0 or out_b > 0:  # per country, so one country's gain never pays for another's loss
                return None
            change += out_a + out_b
        if cell_a[1] != cell_b[1]:
            change += (self.org[b][cell_a[1]] - self.org[a][cell_a[1]] + 1
                       + self.org[a][cell_b[1]] - self.org[b][cell_b[1]] + 1)
        return change

    def _lopsided(self, x: int, y: int, cell: Cell) -> bool:
        # A swap can only lower the score if one of its four terms is negative, that is if a moved
        # person's country or organisation type has at least two more members in their room.
        return (self.country[x][cell[0]] - self.country[y][cell[0]] >= 2
                or self.org[x][cell[1]] - self.org[y][cell[1]] >= 2)

    def _improve_pair(self, a: int, b: int) -> bool:
        cells_a = sorted(cell for cell, keys in self.movable[a].items() if keys)
        cells_b = sorted(cell for cell, keys in self.movable[b].items() if keys)
        lopsided_b = [cell for cell in cells_b if self._lopsided(b, a, cell)]
        for cell_a in cells_a:
            for cell_b in cells_b if self._lopsided(a, b, cell_a) else lopsided_b:
                change = self._swap_change(a, b, cell_a, cell_b) if cell_a != cell_b else None
                if change is not None and change < 0:
                    moved_a, moved_b = self.movable[a][cell_a].pop(), self.movable[b][cell_b].pop()
                    self.movable[b][cell_a].append(moved_a)
                    self.movable[a][cell_b].append(moved_b)
                    for room, gone, came in ((a, cell_a, cell_b), (b, cell_b, cell_a)):
                        self._count(room, gone, -1)
                        self._count(room, came, 1)
                    return True
        return False

    def improve(self) -> None:
        # Terminates: every swap lowers a non-negative integer score.
        improved = True
        while improved:
            improved = False
            for a in range(len(self.slots)):
                for b in range(a + 1, len(self.slots)):
                    while self._improve_pair(a, b):
                        improved = True

    def assignment(self) -> dict[int, int]:
        return {key: self.slots[i].key
                for i, cells in enumerate(self.movable) for keys in cells.values() for key in keys}


def balanced_assignment(people: Sequence[Person], rooms: Sequence[RoomSlot],
                        occupants: Mapping[int, Sequence[Person]] | None = None) -> dict[int, int]:
    """Assign every person (person.key -> room.key). `occupants` are people already in rooms who stay
    where they are. Raises NoRoomAvailable (a ValueError subclass defined here) if capacities cannot hold everyone.

    Greedy placement by the rule of ``place_late_arrival``, largest country first, so that each
    country's people are placed one after another and go round the rooms; then pairwise swaps that
    lower the score without changing sizes or worsening any country (see the module docstring)."""
    state = _Rooms(rooms, occupants)
    if len(people) > state.free_places():
        raise NoRoomAvailable(len(people), int(state.free_places()))
    sizes = Counter(person.country for person in people)
    for person in sorted(people, key=lambda p: (-sizes[p.country], p.country, p.organisation_type, p.key)):
        state.place(person)
    state.improve()
    return state.assignment()


def place_late_arrival(person: Person, rooms: Sequence[RoomSlot],
                       occupants: Mapping[int, Sequence[Person]]) -> int:
    """The room key for one newcomer, by the same rule (smallest rooms first; among them the one where
    the newcomer's country, then organisation type, is least represented; ties by room order).

    Only rooms below capacity count; raises NoRoomAvailable if there is none. Nobody moves."""
    state = _Rooms(rooms, occupants)
    state._admit(person.key)
    return state.slots[state.choose(person)].key
