"""Erlang C against a published worked example and an independent (textbook, factorial) formulation."""

from __future__ import annotations

import math

import pytest
from standardiste.console.core import erlang


def textbook_erlang_c(agents: int, load: float) -> float:
    """The factorial form, written out as printed, to check the recursive one against."""
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    return top / (sum(load**k / math.factorial(k) for k in range(agents)) + top)


# Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example"
# (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls in 30 minutes, AHT 180 s,
# target answer time 20 s, 80 % service level goal -> A = 10 Erlangs; with 11 agents the probability of
# waiting is 68.21 % and the service level 39 %; the goal is first reached with 14 agents, where the service
# level is 88.8 %, occupancy 71.4 % and the average speed of answer 7.8 s. The same figures (14 positions,
# SL 0.888, occupancy 0.714, waiting probability 0.174) are asserted by pyworkforce's test suite
# (rodrigo-arenas/pyworkforce, pyworkforce/queuing/tests/unit/test_erlang.py).
RATE = 100 / 1800
AHT = 180.0
TARGET = 20.0


def test_published_example_traffic_intensity() -> None:
    assert erlang.estimate(11, RATE, AHT, TARGET).load == pytest.approx(10.0)


def test_published_example_eleven_agents() -> None:
    e = erlang.estimate(11, RATE, AHT, TARGET)
    assert round(e.wait_probability, 4) == 0.6821
    assert round(e.service_level, 2) == 0.39


def test_published_example_fourteen_agents() -> None:
    e = erlang.estimate(14, RATE, AHT, TARGET)
    assert round(e.wait_probability, 3) == 0.174
    assert round(e.service_level, 3) == 0.888
    assert round(e.occupancy, 3) == 0.714
    assert round(e.asa, 1) == 7.8


def test_published_example_agents_needed_for_80_percent() -> None:
    assert erlang.agents_needed(RATE, AHT, TARGET, 0.80) == 14
    assert erlang.estimate(13, RATE, AHT, TARGET).service_level < 0.80


@pytest.mark.parametrize(
    ("agents", "load"), [(1, 0.5), (2, 1.2), (11, 10.0), (25, 24.0), (30, 24.0), (60, 48.0)]
)
def test_recursion_matches_textbook_formula(agents: int, load: float) -> None:
    assert erlang.erlang_c(agents, load) == pytest.approx(textbook_erlang_c(agents, load), rel=1e-12)


def test_single_agent_is_mm1() -> None:
    # M/M/1: P(wait) = ρ and the mean wait in queue is ρ/(1−ρ)·h.
    rho, h = 0.75, 100.0
    assert erlang.erlang_c(1, rho) == pytest.approx(rho)
    assert erlang.average_speed_of_answer(1, rho, h) == pytest.approx(rho / (1 - rho) * h)
    assert erlang.service_level(1, rho, h, 0.0) == pytest.approx(1 - rho)


def test_erlang_b_known_value() -> None:
    # B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
    assert erlang.erlang_b(2, 1.0) == pytest.approx(0.2)


def test_hundreds_of_agents_do_not_overflow() -> None:
    c = erlang.erlang_c(400, 380.0)
    assert 0.0 < c < 1.0
    assert math.isfinite(erlang.average_speed_of_answer(400, 380.0, 240.0))


def test_overloaded_queue() -> None:
    e = erlang.estimate(5, 1 / 30, 180.0, 20.0)  # A = 6 > 5 agents
    assert e.overloaded
    assert e.wait_probability == 1.0
    assert e.service_level == 0.0
    assert math.isinf(e.asa)
    assert e.occupancy == 1.0


def test_more_agents_never_hurt() -> None:
    levels = [erlang.service_level(n, 24.0, 240.0, 20.0) for n in range(25, 36)]
    assert levels == sorted(levels)
    waits = [erlang.average_speed_of_answer(n, 24.0, 240.0) for n in range(25, 36)]
    assert waits == sorted(waits, reverse=True)


def test_no_traffic() -> None:
    assert erlang.erlang_c(3, 0.0) == 0.0
    assert erlang.agents_needed(0.0, 180.0, 20.0, 0.8) == 0
