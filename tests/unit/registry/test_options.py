import pytest

from apiserver.machinery.errors import StatusError
from apiserver.registry.options import DeleteOptions, ListOptions, decode_continue, encode_continue


def test_continue_token_round_trip():
    token = encode_continue(42, "/registry/pods/ns/b\x00", "/registry/pods/")
    assert decode_continue(token, "/registry/pods/") == (42, "/registry/pods/ns/b\x00")


@pytest.mark.parametrize("token", ["garbage", "eyJ2IjoiMSJ9", encode_continue(5, "/registry/pods/../x", "/registry/pods/")])
def test_bad_continue_tokens_are_400(token):
    with pytest.raises(StatusError) as e:
        decode_continue(token, "/registry/pods/")
    assert e.value.code == 400


def test_list_options_from_query():
    o = ListOptions.from_query({"limit": "5", "labelSelector": "a=b", "resourceVersion": "10",
                                "resourceVersionMatch": "NotOlderThan", "allowWatchBookmarks": "true",
                                "timeoutSeconds": "30"})
    assert (o.limit, o.label_selector, o.resource_version, o.allow_bookmarks, o.timeout_seconds) == \
        (5, "a=b", "10", True, 30)


@pytest.mark.parametrize("query", [{"limit": "x"}, {"timeoutSeconds": "1.5"}, {"resourceVersion": "x"},
                                   {"continue": "abc", "resourceVersion": "5"}])
def test_bad_list_options_are_400(query):
    with pytest.raises(StatusError) as e:
        ListOptions.from_query(query)
    assert e.value.code == 400


@pytest.mark.parametrize("query", [{"resourceVersionMatch": "Exact"},
                                   {"resourceVersionMatch": "Sometimes", "resourceVersion": "1"}])
def test_list_options_that_do_not_validate_are_422(query):
    with pytest.raises(StatusError) as e:
        ListOptions.from_query(query)
    assert (e.value.code, e.value.kind) == (422, "ListOptions")
    assert e.value.causes[0].field == "resourceVersionMatch"


def test_negative_limit_lists_everything_as_upstream():
    assert ListOptions.from_query({"limit": "-1"}).limit == 0


def test_delete_options_come_from_the_body_when_there_is_one():
    o = DeleteOptions.from_request({"gracePeriodSeconds": "0", "dryRun": "bogus"},
                                   {"kind": "DeleteOptions", "gracePeriodSeconds": 30,
                                    "propagationPolicy": "Orphan", "preconditions": {"uid": "u1"},
                                    "dryRun": ["All"]})
    assert (o.grace_period_seconds, o.propagation_policy, o.uid, o.dry_run) == (30, "Orphan", "u1", True)
    q = DeleteOptions.from_request({"gracePeriodSeconds": ["0", "9"], "orphanDependents": "False"}, None)
    assert (q.grace_period_seconds, q.orphan_dependents) == (0, False)


@pytest.mark.parametrize("query", [{"propagationPolicy": "Sideways"}, {"dryRun": "Some"},
                                   {"propagationPolicy": "Orphan", "orphanDependents": "true"}])
def test_delete_options_that_do_not_validate_are_422(query):
    with pytest.raises(StatusError) as e:
        DeleteOptions.from_request(query, None)
    assert (e.value.code, e.value.kind) == (422, "DeleteOptions")
