"""Every spelling a client may send for a boolean, fed to every boolean query parameter
kube-apiserver reads, with the answer upstream's parameter codec gives
(runtime.Convert_Slice_string_To_bool: only `0` and `false` in any case are false),
plus pretty's strconv.ParseBool, repeated parameters and integers."""
import pytest

from apiserver.http import podoptions
from apiserver.http.context import write_options
from apiserver.http.handlers.apply import forbid_force
from apiserver.http.requestinfo import parse_request_info
from apiserver.machinery import queryparams as qp
from apiserver.machinery.errors import StatusError
from apiserver.registry.options import DeleteOptions, ListOptions

TRUE = list(qp.PARSEBOOL_TRUE) + ["yes", "", "on", "f", "F"]   # f/F: not "false" or "0", so true
FALSE = ["0", "false", "False", "FALSE", "fAlSe"]
SPELLINGS = [(s, True) for s in TRUE] + [(s, False) for s in FALSE]


def _watch_verb(v):
    return parse_request_info("GET", "/api/v1/namespaces/ns/configmaps", {"watch": v}).verb == "watch"


def _bookmarks(v):
    return ListOptions.from_query({"allowWatchBookmarks": v}).allow_bookmarks


def _send_initial(v):
    return ListOptions.from_query({"sendInitialEvents": v}).send_initial_events


def _orphan(v):
    return DeleteOptions.from_request({"orphanDependents": v}, None).orphan_dependents


def _force(v):
    return qp.optional_flag({"force": v}, "force")


def _log_flag(name):
    return lambda v: podoptions.log_params({name: v}, "p").get(name) == "true"


def _stream_flag(name):
    return lambda v: (name, "true") in podoptions.stream_params({name: v})


BOOLEAN_PARAMETERS = {
    "watch": _watch_verb, "allowWatchBookmarks": _bookmarks, "sendInitialEvents": _send_initial,
    "orphanDependents": _orphan, "force": _force,
    **{n: _log_flag(n) for n in podoptions.LOG_FLAGS},
    **{n: _stream_flag(n) for n in podoptions.STREAM_FLAGS},
}


@pytest.mark.parametrize("param", sorted(BOOLEAN_PARAMETERS))
@pytest.mark.parametrize("spelling,expected", SPELLINGS)
def test_every_boolean_spelling_for_every_boolean_parameter(param, spelling, expected):
    assert BOOLEAN_PARAMETERS[param](spelling) is expected


def test_absent_booleans():
    assert parse_request_info("GET", "/api/v1/pods", {}).verb == "list"
    o = ListOptions.from_query({})
    assert (o.allow_bookmarks, o.send_initial_events) == (False, None)
    assert DeleteOptions.from_request({}, None).orphan_dependents is None


def test_force_of_any_spelling_is_forbidden_outside_apply():
    for spelling, _ in SPELLINGS:
        with pytest.raises(StatusError) as e:
            forbid_force({"force": spelling})
        assert (e.value.code, e.value.kind) == (422, "PatchOptions")


@pytest.mark.parametrize("spelling", qp.PARSEBOOL_TRUE)
def test_pretty_true_spellings(spelling):
    assert qp.pretty({"pretty": spelling}, "kubectl/v1.33") is True


@pytest.mark.parametrize("spelling", [*qp.PARSEBOOL_FALSE, "yes", "on", "tRUE"])
def test_pretty_false_and_unparsable_spellings(spelling):
    assert qp.pretty({"pretty": spelling}, "curl/8") is False


def test_pretty_without_the_parameter_follows_the_user_agent():
    assert qp.pretty({}, "curl/8.5.0") and qp.pretty({"pretty": ""}, "Mozilla/5.0 (X11)")
    assert not qp.pretty({}, "OpenAPI-Generator/33.1.0/python") and not qp.pretty({}, None)


def test_repeated_parameters_count_by_their_first_value():
    assert _watch_verb(["true", "false"]) and not _watch_verb(["false", "true"])
    o = ListOptions.from_query({"limit": ["3", "x"], "labelSelector": ["a=b", "c=d"]})
    assert (o.limit, o.label_selector) == (3, "a=b")
    assert write_options({"fieldManager": ["first", "second"]})["fieldManager"] == "first"


@pytest.mark.parametrize("text,value", [("0", 0), ("+7", 7), ("-3", -3), ("0010", 10),
                                        ("9223372036854775807", 2**63 - 1)])
def test_int64_as_parseint(text, value):
    assert qp.parse_int64(text) == value


@pytest.mark.parametrize("text,why", [("", "invalid syntax"), ("1.5", "invalid syntax"), (" 1", "invalid syntax"),
                                      ("1_000", "invalid syntax"), ("0x10", "invalid syntax"),
                                      ("١", "invalid syntax"), ("9223372036854775808", "value out of range")])
def test_malformed_integers_are_400_with_gos_text(text, why):
    for name in ("limit", "timeoutSeconds"):
        with pytest.raises(StatusError) as e:
            ListOptions.from_query({name: text})
        assert e.value.code == 400 and e.value.message.endswith(why)
    with pytest.raises(StatusError) as e:
        DeleteOptions.from_request({"gracePeriodSeconds": text}, None)
    assert e.value.code == 400
    with pytest.raises(StatusError) as e:
        podoptions.log_params({"tailLines": text}, "p")
    assert e.value.code == 400


def test_unknown_parameters_are_ignored():
    o = ListOptions.from_query({"bogus": "1", "limit": "2", "watch": "maybe"})
    assert o.limit == 2
    assert DeleteOptions.from_request({"whatever": "x"}, None).grace_period_seconds is None


def test_dry_run_values_must_all_be_All():
    assert qp.dry_run({"dryRun": ["All"]}, "CreateOptions") is True
    assert qp.dry_run({}, "CreateOptions") is False
    with pytest.raises(StatusError) as e:
        qp.dry_run({"dryRun": ["All", "Some"]}, "UpdateOptions")
    assert (e.value.code, e.value.kind) == (422, "UpdateOptions")
    assert 'dryRun: Unsupported value: []string{"All", "Some"}: supported values: "All"' in e.value.message


def test_pod_log_options_validated_as_upstream():
    assert podoptions.log_params({"tailLines": "0", "limitBytes": "1", "follow": "True"}, "p") == \
        {"follow": "true", "tailLines": "0", "limitBytes": "1"}
    for bad in ({"tailLines": "-1"}, {"limitBytes": "0"}, {"sinceSeconds": "0"},
                {"sinceSeconds": "5", "sinceTime": "2024-01-01T00:00:00Z"}):
        with pytest.raises(StatusError) as e:
            podoptions.log_params(bad, "p")
        assert (e.value.code, e.value.kind) == (422, "PodLogOptions")


def test_exec_parameters_keep_every_command_in_order():
    got = podoptions.stream_params({"command": ["sh", "-c", "echo hi"], "stdin": "T", "tty": "0"})
    assert got == [("command", "sh"), ("command", "-c"), ("command", "echo hi"), ("stdin", "true")]
