"""A limited priority level's seats and queues (upstream's fair-queuing QueueSet, with
every request one seat wide).

Each request is shuffle-sharded: its flow's hash deals a hand of `hand_size` queues
out of `queues`, and it joins the shortest of them (waiting + executing). While seats
are free it runs at once; otherwise it waits, unless its queue already holds
`queue_length_limit` (rejected: queue-full). When a seat frees, the waiting request
whose queue has received the least service goes next (start-time fair queuing: each
queue's virtual finish tag grows by the seconds its requests ran, and an idle queue
that becomes busy starts from the current virtual time, so a heavy flow cannot starve
a light one that shares its level). A level with limitResponse Reject has no queues:
no free seat means rejected (concurrency-limit). Waiting is bounded by `wait_limit`
(time-out). Single-threaded: everything runs on the event loop."""
from __future__ import annotations

import asyncio
import time
from collections import deque

from .classifier import Level

WAIT_LIMIT = 15.0   # upstream: a quarter of the 60 s request timeout
_ESTIMATE = 0.05    # virtual seconds charged at dispatch, corrected by the real duration at the end
_HANDS_MAX = 4096


class Rejected(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason   # upstream's label: queue-full, concurrency-limit, time-out, cancelled


def deal(value: int, deck: int, hand: int) -> list[int]:
    """`hand` distinct cards of 0..deck-1 chosen by `value` (mixed-radix digits, each
    picking among the cards not yet dealt)."""
    cards: list[int] = []
    for i in range(hand):
        remaining = deck - i
        pick = value % remaining
        value //= remaining
        for c in sorted(cards):
            if c <= pick:
                pick += 1
        cards.append(pick)
    return cards


class _Queue:
    __slots__ = ("index", "waiting", "executing", "vfinish")

    def __init__(self, index: int):
        self.index, self.waiting, self.executing, self.vfinish = index, deque(), 0, 0.0


class Ticket:
    """A seat held; release() exactly once when the request is done."""
    __slots__ = ("qs", "queue", "started", "waited")

    def __init__(self, qs: "QueueSet", queue: _Queue | None, started: float, waited: float = 0.0):
        self.qs, self.queue, self.started, self.waited = qs, queue, started, waited

    def release(self) -> None:
        self.qs._finish(self)


class _Waiter:
    __slots__ = ("queue", "future", "timer", "since", "queued")

    def __init__(self, queue: _Queue, future: asyncio.Future, since: float):
        self.queue, self.future, self.since, self.timer, self.queued = queue, future, since, None, True


class QueueSet:
    def __init__(self, level: Level, wait_limit: float = WAIT_LIMIT, clock=time.monotonic):
        self.seats = level.seats
        self.hand_size = min(level.hand_size or 1, level.queues) if level.queues else 0
        self.queue_length_limit = level.queue_length_limit
        self.queues = [_Queue(i) for i in range(level.queues)]
        self.wait_limit, self.clock = wait_limit, clock
        self.executing = 0
        self.waiting = 0
        self.vtime = 0.0
        self._busy: set[_Queue] = set()      # queues with requests waiting
        self._hands: dict[int, list[_Queue]] = {}

    def _hand(self, flow_hash: int) -> list[_Queue]:
        hand = self._hands.get(flow_hash)
        if hand is None:
            hand = [self.queues[i] for i in deal(flow_hash, len(self.queues), self.hand_size)]
            if len(self._hands) >= _HANDS_MAX:
                self._hands.clear()
            self._hands[flow_hash] = hand
        return hand

    def _choose(self, flow_hash: int) -> _Queue:
        best, best_len = None, None
        for q in self._hand(flow_hash):
            n = len(q.waiting) + q.executing
            if best_len is None or n < best_len:
                best, best_len = q, n
        return best

    def _start(self, q: _Queue | None, waited: float = 0.0) -> Ticket:
        self.executing += 1
        if q is not None:
            q.executing += 1
            if q.vfinish > self.vtime:
                self.vtime = q.vfinish
            q.vfinish += _ESTIMATE
        return Ticket(self, q, self.clock(), waited)

    async def acquire(self, flow_hash: int) -> Ticket:
        """A seat, at once or after waiting in a queue; raises Rejected."""
        if not self.queues:
            if self.executing < self.seats:
                return self._start(None)
            raise Rejected("concurrency-limit")
        q = self._choose(flow_hash)
        if not q.waiting and not q.executing and q.vfinish < self.vtime:
            q.vfinish = self.vtime   # an idle queue gets no credit for its idle time
        if not self.waiting and self.executing < self.seats:
            return self._start(q)
        if len(q.waiting) >= self.queue_length_limit:
            raise Rejected("queue-full")
        loop = asyncio.get_running_loop()
        w = _Waiter(q, loop.create_future(), self.clock())
        q.waiting.append(w)
        self._busy.add(q)
        self.waiting += 1
        w.timer = loop.call_later(self.wait_limit, self._expire, w)
        try:
            ticket = await w.future
        except asyncio.CancelledError:   # the client went away
            if w.future.done() and not w.future.cancelled():
                ticket = w.future.result()
                if isinstance(ticket, Ticket):
                    ticket.release()
            else:
                self._unqueue(w)
            raise
        if isinstance(ticket, Rejected):
            raise ticket
        return ticket

    def _unqueue(self, w: _Waiter) -> None:
        if not w.queued:
            return
        w.queued = False
        w.timer.cancel()
        q = w.queue
        q.waiting.remove(w)
        self.waiting -= 1
        if not q.waiting:
            self._busy.discard(q)

    def _expire(self, w: _Waiter) -> None:
        if not w.future.done():
            self._unqueue(w)
            w.future.set_result(Rejected("time-out"))

    def _finish(self, ticket: Ticket) -> None:
        self.executing -= 1
        q = ticket.queue
        if q is not None:
            q.executing -= 1
            q.vfinish += (self.clock() - ticket.started) - _ESTIMATE
        self._dispatch()

    def _dispatch(self) -> None:
        while self.waiting and self.executing < self.seats:
            q = min(self._busy, key=lambda b: (b.vfinish, b.index))
            w = q.waiting[0]
            self._unqueue(w)
            if w.future.done():   # cancelled: its task has not yet run to take itself out
                continue
            w.future.set_result(self._start(q, self.clock() - w.since))

    def resize(self, seats: int) -> None:
        """A new nominal limit (other levels' shares changed): more seats dispatch at once."""
        self.seats = seats
        self._dispatch()
