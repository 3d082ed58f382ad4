"""Time and MicroTime values parse as Go's time.Parse would, with its error wording."""
import pytest

from apiserver.machinery import schemas
from apiserver.machinery.timestamps import first_bad_time, parse_error


@pytest.mark.parametrize("value", ["2026-11-25T19:51:30Z", "2026-11-25T19:51:30.123Z", "2026-11-25T19:51:30+02:00",
                                   "2024-02-29T00:00:00Z", "2026-11-25T19:51:30,5-07:30"])
def test_rfc3339_values_that_parse(value):
    assert parse_error(value, micro=False) is None


@pytest.mark.parametrize("value, error", [
    ("banana", 'parsing time "banana" as "2006-01-02T15:04:05Z07:00": cannot parse "banana" as "2006"'),
    ("2026-11-25 19:51:30Z",
     'parsing time "2026-11-25 19:51:30Z" as "2006-01-02T15:04:05Z07:00": cannot parse " 19:51:30Z" as "T"'),
    ("2026-11-25T19:51:30", 'parsing time "2026-11-25T19:51:30" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"'),
    ("2026-11-25T19:51:30Z.000000Z", 'parsing time "2026-11-25T19:51:30Z.000000Z": extra text: ".000000Z"'),
    ("2026-13-25T19:51:30Z", 'parsing time "2026-13-25T19:51:30Z": month out of range'),
    ("2026-02-30T19:51:30Z", 'parsing time "2026-02-30T19:51:30Z": day out of range'),
])
def test_rfc3339_errors_worded_as_go(value, error):
    assert parse_error(value, micro=False) == error


def test_micro_time_needs_six_fraction_digits():
    assert parse_error("2026-11-25T19:51:30.123456Z", micro=True) is None
    assert parse_error("2026-11-25T19:51:30Z", micro=True) == (
        'parsing time "2026-11-25T19:51:30Z" as "2006-01-02T15:04:05.000000Z07:00": '
        'cannot parse "Z" as ".000000"')


def test_first_bad_time_walks_the_schema():
    lease = {"$ref": "#/$defs/io.k8s.api.coordination.v1.Lease"}
    good = {"metadata": {"name": "a", "creationTimestamp": None}, "spec": {"renewTime": "2026-11-25T19:51:30.000000Z"}}
    assert first_bad_time(good, lease) is None
    bad = {"metadata": {"name": "a"}, "spec": {"holderIdentity": "banana", "renewTime": "banana"}}
    assert first_bad_time(bad, lease).startswith('parsing time "banana" as "2006-01-02T15:04:05.000000Z07:00"')
    pod = {"$ref": "#/$defs/io.k8s.api.core.v1.Pod"}
    cond = {"status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "yesterday"}]}}
    assert "cannot parse \"yesterday\"" in first_bad_time(cond, pod)
    assert schemas.definitions()  # the schemas were there to walk
