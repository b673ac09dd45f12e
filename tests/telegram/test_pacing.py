"""The pacer keeps every schedule inside Telegram's limits: 1/s per chat, 20/min per group, 30/s overall."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from absensi.drivers.telegram.pacing import Limits, Pacer, is_group

GROUP = "-1001234567890"


def schedule(pacer: Pacer, chats: list[str], start: float = 0.0) -> list[tuple[str, float]]:
    """Send to `chats` in order, each as early as the pacer allows (one sender, no latency)."""
    now, sent = start, []
    for chat in chats:
        now = pacer.ready_at(chat, now)
        pacer.record(chat, now)
        sent.append((chat, now))
    return sent


def test_one_chat_gets_at_most_one_message_per_second():
    times = [t for _, t in schedule(Pacer(), ["700001"] * 4)]
    assert times == [0.0, 1.0, 2.0, 3.0]


def test_different_chats_are_not_held_back_by_each_other():
    times = [t for _, t in schedule(Pacer(), ["700001", "700002", "700003"])]
    assert times == [0.0, 0.0, 0.0]


def test_a_group_gets_twenty_messages_a_minute():
    times = [t for _, t in schedule(Pacer(), [GROUP] * 25)]
    assert times[:20] == [float(n) for n in range(20)]
    assert times[20] == 60.0 and times[24] == 64.0


def test_the_bot_sends_at_most_thirty_messages_a_second_overall():
    times = [t for _, t in schedule(Pacer(), [str(700000 + n) for n in range(45)])]
    assert times[29] == 0.0 and times[30] == 1.0 and times[44] == 1.0


def test_a_paused_chat_waits_until_the_pause_ends():
    pacer = Pacer()
    pacer.record("700001", 0.0)
    pacer.pause("700001", 7.0)
    assert pacer.ready_at("700001", 1.0) == 7.0
    assert pacer.ready_at("700002", 1.0) == 1.0


def test_forgetting_old_bookkeeping_changes_no_answer():
    pacer = Pacer()
    schedule(pacer, [GROUP] * 20 + ["700001"])
    pacer.forget_before(200.0)
    assert pacer.ready_at(GROUP, 200.0) == 200.0 and pacer.ready_at("700001", 200.0) == 200.0


def test_groups_are_recognised_by_their_negative_id():
    assert is_group(GROUP) and is_group("-4001") and not is_group("700001")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["700001", "700002", "700003", GROUP, "-4002"]), max_size=120),
       st.lists(st.floats(min_value=0, max_value=3), max_size=120))
def test_any_schedule_the_pacer_allows_respects_every_limit(chats: list[str], gaps: list[float]):
    pacer, limits, now, sent = Pacer(), Limits(), 0.0, []
    for index, chat in enumerate(chats):
        now += gaps[index] if index < len(gaps) else 0.0
        at = pacer.ready_at(chat, now)
        assert at >= now
        pacer.record(chat, at)
        sent.append((chat, at))
        now = at
    for chat in set(chats):
        times = sorted(t for c, t in sent if c == chat)
        assert all(b - a >= limits.per_chat_interval - 1e-9 for a, b in itertools.pairwise(times))
        if is_group(chat):
            assert all(times[i + 20] - times[i] >= 60 - 1e-9 for i in range(len(times) - 20))
    everything = sorted(t for _, t in sent)
    assert all(everything[i + 30] - everything[i] >= 1 - 1e-9 for i in range(len(everything) - 30))
