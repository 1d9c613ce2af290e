"""forum.services.assignment: spreading people over breakout rooms, and late arrivals.

The checkers below state the module's guarantees independently of its code; the first test makes
sure each of them rejects a deliberately bad assignment, so that the property tests can fail."""
from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forum.services.assignment import NoRoomAvailable, Person, RoomSlot, balanced_assignment, place_late_arrival

# No example database: it would leave a .hypothesis folder in the work tree.
PROPERTY = settings(database=None, deadline=None, max_examples=150)

COUNTRIES = ["AT", "BE", "CZ", "DE", "EE", "FR"]
OCCUPANT_COUNTRIES = ["LU", "MT"]  # disjoint from COUNTRIES: the country guarantee needs that
ORGS = ["academia", "business", "ngo", "public"]


# --- checkers -------------------------------------------------------------------------------

def full_placement(result, people, occupants=None):
    """Person -> room key for everyone, occupants included."""
    by_key = {person.key: person for person in people}
    where = {person: room for room, persons in (occupants or {}).items() for person in persons}
    return where | {by_key[key]: room for key, room in result.items()}


def basic_problems(result, people, rooms, occupants=None):
    """Everyone assigned exactly once, to an existing room, within capacity."""
    problems = []
    if sorted(result) != sorted(person.key for person in people):
        problems.append("not everyone exactly once")
    room_keys = {room.key for room in rooms}
    problems += [f"unknown room {room}" for room in set(result.values()) - room_keys]
    sizes = Counter(full_placement(result, people, occupants).values())
    old = Counter({room: len(persons) for room, persons in (occupants or {}).items()})
    for room in rooms:
        if room.capacity is not None and sizes[room.key] > max(room.capacity, old[room.key]):
            problems.append(f"room {room.key} above capacity")
    return problems


def size_problems(result, people, rooms, occupants=None):
    """A room that received someone is at most one larger than any room still below capacity."""
    sizes = Counter(full_placement(result, people, occupants).values())
    received = set(result.values())
    still_open = [room.key for room in rooms if room.capacity is None or sizes[room.key] < room.capacity]
    return [f"{big} > {small} + 1" for big in received for small in still_open
            if sizes[big] > sizes[small] + 1]


def spread(result, people, rooms, attribute):
    """value -> (largest - smallest) per-room count of the new people having it."""
    by_key = {person.key: person for person in people}
    counts = Counter((room, getattr(by_key[key], attribute)) for key, room in result.items())
    return {value: max(counts[room.key, value] for room in rooms) - min(counts[room.key, value] for room in rooms)
            for value in {getattr(person, attribute) for person in people}}


def squares(where, attribute):
    """value -> sum over rooms of its squared count."""
    counts = Counter((room, getattr(person, attribute)) for person, room in where.items())
    total = Counter()
    for (_, value), n in counts.items():
        total[value] += n * n
    return total


def score(where):
    return sum(squares(where, "country").values()) + sum(squares(where, "organisation_type").values())


def improving_swap(result, people, occupants=None):
    """A swap of two new people that lowers the score and raises no country's squares, if any."""
    where = full_placement(result, people, occupants)
    base, base_countries = score(where), squares(where, "country")
    for i, p in enumerate(people):
        for q in people[i + 1:]:
            if where[p] == where[q]:
                continue
            swapped = where | {p: where[q], q: where[p]}
            countries = squares(swapped, "country")
            if score(swapped) < base and all(countries[c] <= base_countries[c] for c in countries):
                return p, q
    return None


def make_people(cells, start=0):
    return [Person(start + i, country, org) for i, (country, org) in enumerate(cells)]


def make_rooms(capacities):
    return [RoomSlot(100 + i, capacity) for i, capacity in enumerate(capacities)]


def test_checkers_catch_bad_assignments():
    people = make_people([("AT", "ngo"), ("AT", "ngo"), ("BE", "ngo"), ("BE", "public")])
    rooms = make_rooms([None, 2])
    assert basic_problems({0: 100, 1: 100, 2: 101}, people, rooms) == ["not everyone exactly once"]
    assert basic_problems({0: 100, 1: 100, 2: 101, 3: 999}, people, rooms) == ["unknown room 999"]
    assert basic_problems({0: 101, 1: 101, 2: 101, 3: 100}, people, rooms) == ["room 101 above capacity"]
    lopsided = {0: 100, 1: 100, 2: 100, 3: 101}
    assert basic_problems(lopsided, people, rooms) == []
    assert size_problems(lopsided, people, make_rooms([None, None])) == ["100 > 101 + 1"]
    assert spread(lopsided, people, rooms, "country") == {"AT": 2, "BE": 0}
    assert improving_swap(lopsided, people) is not None
    assert improving_swap({0: 100, 1: 101, 2: 100, 3: 101}, people) is None


# --- strategies -----------------------------------------------------------------------------

cells = st.tuples(st.sampled_from(COUNTRIES), st.sampled_from(ORGS))
people_lists = st.lists(cells, max_size=30).map(make_people)


@st.composite
def occupied_rooms(draw, capacities=st.one_of(st.none(), st.integers(0, 8)), balanced=False):
    """(rooms, occupants); balanced: occupants' rooms within one, all from OCCUPANT_COUNTRIES."""
    rooms = make_rooms(draw(st.lists(capacities, min_size=1, max_size=6)))
    level = draw(st.integers(0, 3))
    occupants, key = {}, 1000
    for room in rooms:
        if balanced:
            size = level + draw(st.integers(0, 1))
            members = draw(st.lists(st.tuples(st.sampled_from(OCCUPANT_COUNTRIES), st.sampled_from(ORGS)),
                                    min_size=size, max_size=size))
        else:
            members = draw(st.lists(cells, max_size=5))
        occupants[room.key] = make_people(members, start=key)
        key += len(members)
    return rooms, occupants


# --- balanced_assignment --------------------------------------------------------------------

@PROPERTY
@given(people_lists, occupied_rooms())
def test_everyone_gets_one_room_within_capacity_or_no_room_is_available(people, rooms_and_occupants):
    rooms, occupants = rooms_and_occupants
    free = sum(math.inf if room.capacity is None else max(0, room.capacity - len(occupants[room.key]))
               for room in rooms)
    if len(people) > free:
        with pytest.raises(NoRoomAvailable) as raised:
            balanced_assignment(people, rooms, occupants)
        assert (raised.value.needed, raised.value.available) == (len(people), free)
        return
    result = balanced_assignment(people, rooms, occupants)
    assert basic_problems(result, people, rooms, occupants) == []
    assert size_problems(result, people, rooms, occupants) == []


@PROPERTY
@given(people_lists, occupied_rooms(capacities=st.none(), balanced=True))
def test_without_capacities_rooms_end_within_one(people, rooms_and_occupants):
    rooms, occupants = rooms_and_occupants
    result = balanced_assignment(people, rooms, occupants)
    sizes = Counter(full_placement(result, people, occupants).values())
    assert max(sizes[room.key] for room in rooms) - min(sizes[room.key] for room in rooms) <= 1


@PROPERTY
@given(people_lists, occupied_rooms(capacities=st.just(None), balanced=True), st.one_of(st.none(), st.integers(0, 3)))
def test_each_country_is_spread_within_one(people, rooms_and_occupants, spare):
    rooms, occupants = rooms_and_occupants
    if spare is not None:  # one capacity shared by all rooms, large enough for everyone
        total = len(people) + sum(map(len, occupants.values()))
        rooms = make_rooms([math.ceil(total / len(rooms)) + spare] * len(rooms))
    result = balanced_assignment(people, rooms, occupants)
    assert all(difference <= 1 for difference in spread(result, people, rooms, "country").values())
    for country, n in Counter(person.country for person in people).items():
        holding = Counter(room for key, room in result.items() if people[key].country == country)
        assert max(holding.values()) <= math.ceil(n / len(rooms))
        assert len(holding) == min(n, len(rooms))


@PROPERTY
@given(st.lists(cells, max_size=16).map(make_people), occupied_rooms())
def test_swaps_end_in_a_local_optimum(people, rooms_and_occupants):
    rooms, occupants = rooms_and_occupants
    try:
        result = balanced_assignment(people, rooms, occupants)
    except NoRoomAvailable:
        return
    assert improving_swap(result, people, occupants) is None


@PROPERTY
@given(people_lists, occupied_rooms())
def test_swaps_keep_the_greedy_sizes_and_worsen_no_country(people, rooms_and_occupants):
    rooms, occupants = rooms_and_occupants
    try:
        result = balanced_assignment(people, rooms, occupants)
    except NoRoomAvailable:
        return
    # The greedy phase is place_late_arrival in the documented order.
    sizes = Counter(person.country for person in people)
    current = {key: list(persons) for key, persons in occupants.items()}
    greedy = {}
    for person in sorted(people, key=lambda p: (-sizes[p.country], p.country, p.organisation_type, p.key)):
        greedy[person.key] = place_late_arrival(person, rooms, current)
        current[greedy[person.key]].append(person)
    after, before = full_placement(result, people, occupants), full_placement(greedy, people, occupants)
    assert Counter(after.values()) == Counter(before.values())
    assert score(after) <= score(before)
    after_countries, before_countries = squares(after, "country"), squares(before, "country")
    assert all(after_countries[country] <= before_countries[country] for country in before_countries)


def test_forty_eight_participants_in_four_rooms():
    countries = {"DE": 7, "FR": 6, "IT": 5, "ES": 5, "PL": 4, "NL": 4, "BE": 3, "SE": 3, "AT": 3,
                 "PT": 2, "CZ": 2, "IE": 2, "GR": 1, "FI": 1}
    orgs = {"business": 11, "ngo": 9, "academia": 8, "public_authority": 8, "business_association": 5,
            "trade_union": 3, "international": 2, "citizen": 2}
    pool = [org for org, n in orgs.items() for _ in range(n)]
    # Person i takes pool[7i mod 48]: a fixed scramble (7 and 48 are coprime), so every type is used.
    people = make_people([(country, pool[7 * i % 48])
                          for i, country in enumerate(c for c, n in countries.items() for _ in range(n))])
    rooms = make_rooms([None] * 4)
    assert len(people) == 48 and len(set(person.organisation_type for person in people)) == 8

    def concentrated(result):
        problems = []
        for attribute in ("country", "organisation_type"):
            for value, n in Counter(getattr(person, attribute) for person in people).items():
                holding = {room for key, room in result.items() if getattr(people[key], attribute) == value}
                if len(holding) != min(n, 4):
                    problems.append(value)
        return problems

    # One block of 12 per room in list order would leave DE, ES and most organisation types in few rooms.
    assert concentrated({person.key: 100 + person.key // 12 for person in people})

    result = balanced_assignment(people, rooms)
    assert basic_problems(result, people, rooms) == []
    assert sorted(Counter(result.values()).values()) == [12, 12, 12, 12]
    assert concentrated(result) == []
    assert all(difference <= 1 for difference in spread(result, people, rooms, "country").values())


@PROPERTY
@given(people_lists, occupied_rooms(), st.randoms(use_true_random=False))
def test_the_result_depends_on_the_people_not_their_order(people, rooms_and_occupants, rng):
    rooms, occupants = rooms_and_occupants
    shuffled = list(people)
    rng.shuffle(shuffled)
    try:
        result = balanced_assignment(people, rooms, occupants)
    except NoRoomAvailable:
        return
    assert balanced_assignment(people, rooms, occupants) == result
    assert balanced_assignment(shuffled, rooms, occupants) == result


def test_capacities_too_small_raise_no_room_available():
    people = make_people([("AT", "ngo")] * 7)
    with pytest.raises(NoRoomAvailable) as raised:
        balanced_assignment(people, make_rooms([2, 2, 2]))
    assert isinstance(raised.value, ValueError) and (raised.value.needed, raised.value.available) == (7, 6)
    with pytest.raises(NoRoomAvailable):
        balanced_assignment(people, [])
    full = {100: make_people([("BE", "ngo")] * 3, start=50)}
    with pytest.raises(NoRoomAvailable):
        balanced_assignment(people[:1], make_rooms([3]), full)
    with pytest.raises(NoRoomAvailable):
        place_late_arrival(people[0], make_rooms([3]), full)
    with pytest.raises(NoRoomAvailable):
        place_late_arrival(people[0], [], {})


def test_empty_inputs():
    assert balanced_assignment([], []) == {}
    assert balanced_assignment([], make_rooms([None, 0])) == {}
    assert balanced_assignment([], make_rooms([1]), {100: make_people([("AT", "ngo")])}) == {}
    assert balanced_assignment(make_people([("AT", "ngo")]), make_rooms([0, None]), {}) == {0: 101}


def test_inconsistent_input_is_refused():
    person = Person(1, "AT", "ngo")
    for call in (lambda: balanced_assignment([person, person], make_rooms([None])),
                 lambda: balanced_assignment([person], make_rooms([None]), {100: [person]}),
                 lambda: balanced_assignment([person], make_rooms([None]) * 2),
                 lambda: balanced_assignment([person], make_rooms([None]), {999: []}),
                 lambda: place_late_arrival(person, make_rooms([None]), {100: [person]})):
        with pytest.raises(ValueError) as raised:
            call()
        assert not isinstance(raised.value, NoRoomAvailable)


def test_a_thousand_people_from_27_countries_spread_over_twenty_rooms():
    # (How long this takes is measured by bench/assignment.py, not asserted here.)
    rng = random.Random(1000)
    people = make_people([(f"C{rng.randrange(27):02d}", rng.choice(ORGS * 2 + ["trade_union", "citizen"]))
                          for _ in range(1000)])
    rooms = make_rooms([None] * 20)
    result = balanced_assignment(people, rooms)
    assert set(Counter(result.values()).values()) == {50}
    assert all(difference <= 1 for difference in spread(result, people, rooms, "country").values())


# --- place_late_arrival ---------------------------------------------------------------------

def test_a_late_arrival_goes_to_the_smallest_room_then_by_country_then_organisation_type():
    rooms = make_rooms([None, None, None, None])
    at_ngo, be_ngo, at_biz = Person(1, "AT", "ngo"), Person(2, "BE", "ngo"), Person(3, "AT", "business")
    newcomer = Person(9, "AT", "ngo")
    assert place_late_arrival(newcomer, rooms, {}) == 100
    assert place_late_arrival(newcomer, rooms, {100: [at_ngo], 101: [be_ngo], 102: [at_biz]}) == 103
    occupants = {100: [at_ngo], 101: [be_ngo], 102: [at_biz], 103: [Person(4, "BE", "public")]}
    assert place_late_arrival(newcomer, rooms, occupants) == 103  # no AT, no ngo
    occupants[103] = [Person(4, "BE", "ngo")]
    assert place_late_arrival(newcomer, rooms, occupants) == 101  # no AT; first in room order
    assert place_late_arrival(newcomer, make_rooms([None, 2, None, None]), occupants) == 101
    assert place_late_arrival(newcomer, make_rooms([None, 1, None, None]), occupants) == 103  # 101 is full


@PROPERTY
@given(st.lists(cells, min_size=1, max_size=30).map(lambda c: make_people(c, start=5000)),
       occupied_rooms(capacities=st.none(), balanced=True))
def test_late_arrivals_one_by_one_keep_rooms_within_one(arrivals, rooms_and_occupants):
    rooms, occupants = rooms_and_occupants
    for person in arrivals:
        chosen = place_late_arrival(person, rooms, occupants)
        assert chosen in occupants
        occupants[chosen] = [*occupants[chosen], person]
        sizes = [len(occupants[room.key]) for room in rooms]
        assert max(sizes) - min(sizes) <= 1


@PROPERTY
@given(st.integers(1, 20), occupied_rooms(capacities=st.none(), balanced=True))
def test_a_new_countrys_arrivals_are_spread_within_one(n, rooms_and_occupants):
    rooms, occupants = rooms_and_occupants
    arrivals = [Person(5000 + i, "PT", ORGS[i % len(ORGS)]) for i in range(n)]
    result = {}
    for person in arrivals:
        result[person.key] = place_late_arrival(person, rooms, occupants)
        occupants[result[person.key]] = [*occupants[result[person.key]], person]
    assert spread(result, arrivals, rooms, "country")["PT"] <= 1
    assert len(set(result.values())) == min(n, len(rooms))
