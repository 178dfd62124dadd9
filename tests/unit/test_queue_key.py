"""The queue's sort key, one int, orders conversations exactly as the tuple it packs: (rank, deadline,
-priority, created) for open ones, (90, 0.0, 0, -closed) for closed ones. Ties stay ties."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from standardiste.console.core.model import STATES_BY_CHANNEL, Channel, Conversation, Priority
from standardiste.console.core.views import CHANNEL_RANK, FAR_FUTURE, STATE_RANK, queue_key

TIMES = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 1764000000.0, 1764000000.5, FAR_FUTURE]),
    st.floats(min_value=-2e9, max_value=2e12, allow_nan=False),
    st.integers(-(10**9), 2 * 10**9),
)


@st.composite
def conversations(draw: st.DrawFn) -> Conversation:
    channel = draw(st.sampled_from(list(Channel)))
    return Conversation(
        id="local:1",
        channel=channel,
        state=draw(st.sampled_from(STATES_BY_CHANNEL[channel])),
        subject="",
        customer_id="",
        customer_name="",
        language="en",
        created_at=draw(TIMES),
        updated_at=draw(TIMES),
        priority=draw(st.sampled_from(list(Priority))),
        sla_due_at=draw(st.none() | TIMES),
        closed_at=draw(st.none() | TIMES),
    )


def as_tuple(c: Conversation) -> tuple[float, ...]:
    """The order as it reads."""
    if c.is_closed:
        return (90, 0.0, 0, -(c.closed_at or c.updated_at))
    due = c.sla_due_at
    return (
        CHANNEL_RANK[c.channel] * 10 + STATE_RANK.get(c.state, 2),
        FAR_FUTURE if due is None else due,
        -c.priority,
        c.created_at,
    )


@settings(max_examples=400, deadline=None)
@given(a=conversations(), b=conversations())
def test_the_int_key_compares_as_the_tuple(a: Conversation, b: Conversation) -> None:
    ta, tb = as_tuple(a), as_tuple(b)
    expected = (ta > tb) - (ta < tb)
    ka, kb = queue_key(a), queue_key(b)
    assert (ka > kb) - (ka < kb) == expected


@settings(max_examples=100, deadline=None)
@given(a=conversations())
def test_a_conversation_ties_with_its_copy(a: Conversation) -> None:
    assert queue_key(a) == queue_key(a.evolve(subject="other", unread=a.unread + 1))


def test_minus_zero_ties_with_zero_as_in_a_tuple() -> None:
    base = Conversation(
        id="local:1",
        channel=Channel.CHAT,
        state=STATES_BY_CHANNEL[Channel.CHAT][0],
        subject="",
        customer_id="",
        customer_name="",
        language="en",
        created_at=0.0,
        updated_at=0.0,
        sla_due_at=0.0,
    )
    assert queue_key(base) == queue_key(base.evolve(sla_due_at=-0.0, created_at=-0.0))
