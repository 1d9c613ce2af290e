"""The server process's garbage collector (forum.realtime.tune_garbage_collector, wsgi.py)."""
from __future__ import annotations

import gc

import pytest

from forum.realtime import tune_garbage_collector


@pytest.fixture
def collector():
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_thresholds_come_from_the_configuration(app, collector):
    app.config["GC_THRESHOLDS"] = "40000,15,25"
    tune_garbage_collector(app)
    assert gc.get_threshold() == (40000, 15, 25)

    gc.set_threshold(700, 10, 10)
    app.config["GC_THRESHOLDS"] = "default"
    tune_garbage_collector(app)
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("setting", ["50000,20", "a,b,c", "0,10,10", "50000;20;20", ""])
def test_a_wrong_setting_stops_the_start_with_what_it_must_be(app, collector, setting):
    app.config["GC_THRESHOLDS"] = setting
    before = gc.get_threshold()
    with pytest.raises(RuntimeError, match="GC_THRESHOLDS must be three whole numbers above 0"):
        tune_garbage_collector(app)
    assert gc.get_threshold() == before
