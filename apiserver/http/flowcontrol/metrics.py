"""apiserver_flowcontrol_* (upstream's names and labels), counted by the dispatcher."""
from __future__ import annotations

from promtext import Counter, Gauge, Histogram

_PAIR = ("priority_level", "flow_schema")
_WAIT_BUCKETS = (0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30)


class FlowMetrics:
    def __init__(self, nominal_limits):
        """`nominal_limits`: () -> {level name: seats}, read at scrape time."""
        self.dispatched = Counter("apiserver_flowcontrol_dispatched_requests_total",
                                  "Number of requests executed by API Priority and Fairness subsystem", _PAIR)
        self.rejected = Counter("apiserver_flowcontrol_rejected_requests_total",
                                "Number of requests rejected by API Priority and Fairness subsystem",
                                (*_PAIR, "reason"))
        self.inqueue = Gauge("apiserver_flowcontrol_current_inqueue_requests",
                             "Number of requests currently pending in queues of the API Priority and Fairness "
                             "subsystem", _PAIR)
        self.executing = Gauge("apiserver_flowcontrol_current_executing_requests",
                               "Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage "
                               "in the API Priority and Fairness subsystem", _PAIR)
        # every request is one seat wide here, so seats in use are the requests executing
        self.seats = Gauge("apiserver_flowcontrol_current_executing_seats",
                           "Concurrency (number of seats) occupied by the currently executing (initial stage for a "
                           "WATCH, any stage otherwise) requests in the API Priority and Fairness subsystem", _PAIR,
                           read=lambda: self.executing.values)
        self.nominal = Gauge("apiserver_flowcontrol_nominal_limit_seats",
                             "Nominal number of execution seats configured for each priority level",
                             ("priority_level",), read=lambda: {(k,): v for k, v in nominal_limits().items()})
        self.wait = Histogram("apiserver_flowcontrol_request_wait_duration_seconds",
                              "Length of time a request spent waiting in its queue", (*_PAIR, "execute"),
                              _WAIT_BUCKETS)

    def families(self) -> list:
        return [self.dispatched, self.rejected, self.inqueue, self.executing, self.seats, self.nominal, self.wait]
