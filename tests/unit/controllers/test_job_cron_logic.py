"""Job bookkeeping, cron schedules and disruption budgets, without I/O."""
from __future__ import annotations

import datetime as dt

from controllers import cronschedule, jobutil
from controllers.cronjobs import job_name
from controllers.disruption import budget


def test_completed_indexes_round_trip_as_intervals():
    assert jobutil.format_intervals({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
    assert jobutil.parse_intervals("0-2,5,7-8") == {0, 1, 2, 5, 7, 8}
    assert jobutil.parse_intervals("") == set()


def test_wanted_active_pods():
    assert jobutil.wanted_active({"completions": 6, "parallelism": 3}, 0, 0) == 3
    assert jobutil.wanted_active({"completions": 6, "parallelism": 3}, 5, 0) == 1
    assert jobutil.wanted_active({"parallelism": 2}, 0, 0) == 2  # a work queue
    assert jobutil.wanted_active({"parallelism": 2}, 1, 1) == 0


def test_missing_indexes_fill_the_lowest_first():
    assert jobutil.missing_indexes(5, {0, 2}, {1}, 3) == [3, 4]
    assert jobutil.missing_indexes(5, set(), {0, 1, 2}, 3) == []


def test_backoff_doubles_up_to_six_minutes():
    assert [jobutil.backoff_delay(n) for n in (0, 1, 2, 3)] == [0.0, 10.0, 20.0, 40.0]
    assert jobutil.backoff_delay(20) == 360.0


def test_cron_next_time_in_a_time_zone():
    base = dt.datetime(2024, 3, 30, 12, 0, tzinfo=dt.timezone.utc).timestamp()
    nxt = cronschedule.next_after("0 9 * * *", "Europe/Berlin", base)
    local = dt.datetime.fromtimestamp(nxt, cronschedule.zone("Europe/Berlin"))
    assert (local.day, local.hour, local.minute) == (31, 9, 0)  # the day DST starts
    assert cronschedule.next_after("@hourly", None, base) == base + 3600


def test_most_recent_missed_firing():
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    latest, count = cronschedule.most_recent("*/10 * * * *", None, start, start + 3599)
    assert count == 5 and latest == start + 3000
    assert cronschedule.most_recent("*/10 * * * *", None, start, start + 10)[0] is None
    assert cronschedule.validate("61 * * * *")


def test_job_names_are_the_scheduled_minute():
    assert job_name("tick", 120.0) == "tick-2"


def test_budget_from_min_available_or_max_unavailable():
    assert budget({"minAvailable": 2}, 3, None) == (3, 2)
    assert budget({"minAvailable": "50%"}, 3, 4) == (4, 2)
    assert budget({"maxUnavailable": 1}, 3, 3) == (3, 2)
    assert budget({"maxUnavailable": "50%"}, 3, None) is None


def test_pod_failure_policy_picks_the_first_matching_rule():
    policy = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
                        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}
    pod = {"metadata": {"name": "p", "namespace": "ns"}, "status": {"phase": "Failed", "containerStatuses": [
        {"name": "main", "state": {"terminated": {"exitCode": 42}}}]}}
    assert jobutil.failure_policy_match(policy, pod) == (
        "FailJob", "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1")
    pod["status"]["conditions"] = [{"type": "DisruptionTarget", "status": "True"}]
    assert jobutil.failure_policy_match(policy, pod)[0] == "Ignore"
    other = {"metadata": {"name": "q", "namespace": "ns"}, "status": {"containerStatuses": [
        {"name": "main", "state": {"terminated": {"exitCode": 1}}}]}}
    assert jobutil.failure_policy_match(policy, other) is None


def test_every_and_question_mark_schedules_as_robfig_cron_reads_them():
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    assert cronschedule.next_after("@every 1m30s", None, base + 0.4) == base + 90
    assert cronschedule.every_seconds("@every 200ms") == 1  # below a second: one second
    assert cronschedule.every_seconds("*/5 * * * *") is None
    assert cronschedule.validate("@every 5 minutes") and cronschedule.validate("@every 1.5h") is None
    assert cronschedule.next_after("*/1 * * * ?", None, base) == base + 60
