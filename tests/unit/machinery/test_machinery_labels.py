"""Label selectors: upstream grammar, matching, and error wording."""
import pytest

from apiserver.machinery.labels import (
    EVERYTHING, SelectorError, from_label_selector_object, parse_label_selector, selector_from_labels,
)

LABELS = {"app": "web", "tier": "front", "env": "prod", "n": "5"}


@pytest.mark.parametrize("text,expected", [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app!=web", False),
    ("app!=db", True),
    ("missing!=x", True),
    ("app in (web,db)", True),
    ("app in (db)", False),
    ("app notin (db)", True),
    ("app notin (web)", False),
    ("missing notin (web)", True),
    ("missing in (web)", False),
    ("app", True),
    ("missing", False),
    ("!missing", True),
    ("!app", False),
    ("app=web,tier=front", True),
    ("app=web,tier=back", False),
    ("  app = web ,  tier in ( front , back )  ", True),
    ("n>4", True),
    ("n>5", False),
    ("n<6", True),
    ("app>1", False),  # non-integer label value never matches
    ("env in (prod),!missing,app", True),
    ("x in (in,notin)", False),
    ("app in (in,web)", True),  # keywords are plain words inside a value set
])
def test_matches(text, expected):
    assert parse_label_selector(text).matches(LABELS) is expected


def test_empty_and_everything():
    assert parse_label_selector("").empty
    assert parse_label_selector(None) is EVERYTHING
    assert not parse_label_selector("a").empty
    assert parse_label_selector("a").matches({"a": ""})


def test_empty_values():
    assert parse_label_selector("a=").matches({"a": ""})
    assert not parse_label_selector("a=").matches({})
    assert parse_label_selector("a in ()").matches({"a": ""})
    sel = parse_label_selector("a in (,b)")
    assert sel.matches({"a": ""}) and sel.matches({"a": "b"})
    assert parse_label_selector("a in (b,)").matches({"a": ""})
    assert parse_label_selector("a in (b,,c)").matches({"a": ""})


def test_string_form_is_canonical():
    sel = parse_label_selector("z in (b,a),a!=x,!m,k")
    assert str(sel) == "a!=x,k,!m,z in (a,b)"


def test_exact_value():
    sel = parse_label_selector("a=1,b in (2),c in (3,4),d!=5")
    assert sel.exact_value("a") == "1"
    assert sel.exact_value("b") == "2"
    assert sel.exact_value("c") is None
    assert sel.exact_value("d") is None
    assert sel.exact_value("zz") is None


@pytest.mark.parametrize("text,message", [
    ("a in", "unable to parse requirement: found '' expected: '('"),
    ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("a,", "found '', expected: identifier after ','"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
    ("a>x", 'unable to parse requirement: values[0]: Invalid value: "x": '
            "for 'Gt', 'Lt' operators, the value must be an integer"),
    ("a=>b", "unable to parse requirement: found '>', expected: identifier"),
    ("a ~ b", "unable to parse requirement: found '~', expected: in, notin, =, ==, !=, gt, lt"),
])
def test_parse_errors(text, message):
    with pytest.raises(SelectorError) as e:
        parse_label_selector(text)
    assert str(e.value) == message


def test_invalid_key_and_value_wording():
    with pytest.raises(SelectorError) as e:
        parse_label_selector("-a=b")
    assert str(e.value) == (
        'unable to parse requirement: <nil>: Invalid value: "-a": name part must consist of alphanumeric '
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  "
        "or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    )  # upstream's RegexError really puts two spaces before each "or"
    with pytest.raises(SelectorError) as e:
        parse_label_selector("a=b@c")
    assert str(e.value).startswith('unable to parse requirement: values[0][a]: Invalid value: "b@c": '
                                   "a valid label must be an empty string or consist of")
    with pytest.raises(SelectorError) as e:
        parse_label_selector("example.com/a/b")
    assert "a qualified name must consist of" in str(e.value)


def test_prefixed_keys():
    sel = parse_label_selector("app.kubernetes.io/name=web")
    assert sel.matches({"app.kubernetes.io/name": "web"})
    with pytest.raises(SelectorError, match="prefix part"):
        parse_label_selector("Bad_Prefix/name=x")


def test_symbol_run_is_lexed_longest_valid():
    with pytest.raises(SelectorError, match="error expected: keyword found '=!'|found"):
        parse_label_selector("a=!b")
    assert parse_label_selector("a!=b").matches({"a": "c"})


def test_label_selector_object():
    obj = {"matchLabels": {"app": "web"},
           "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]},
                                {"key": "canary", "operator": "DoesNotExist"},
                                {"key": "env", "operator": "Exists"},
                                {"key": "zone", "operator": "NotIn", "values": ["a"]}]}
    sel = from_label_selector_object(obj)
    assert sel.matches({"app": "web", "tier": "front", "env": "x"})
    assert not sel.matches({"app": "web", "tier": "front", "env": "x", "canary": "1"})
    assert not sel.matches({"app": "web", "tier": "front", "env": "x", "zone": "a"})
    assert not sel.matches({"app": "web", "tier": "mid", "env": "x"})
    assert from_label_selector_object({}).matches({"any": "thing"})
    assert not from_label_selector_object(None).matches({})
    assert not from_label_selector_object(None).empty


def test_label_selector_object_errors():
    with pytest.raises(SelectorError, match='"Foo" is not a valid label selector operator'):
        from_label_selector_object({"matchExpressions": [{"key": "a", "operator": "Foo"}]})
    with pytest.raises(SelectorError, match="values set can't be empty"):
        from_label_selector_object({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})
    with pytest.raises(SelectorError, match="values set must be empty for exists"):
        from_label_selector_object({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})


def test_selector_from_labels():
    sel = selector_from_labels({"app": "web"})
    assert sel.matches({"app": "web", "x": "y"}) and not sel.matches({"app": "db"})
    assert selector_from_labels({}).empty


def test_selector_error_is_a_bad_request_status():
    with pytest.raises(SelectorError) as e:
        parse_label_selector("a in")
    assert e.value.status()["code"] == 400 and e.value.status()["reason"] == "BadRequest"
    assert isinstance(e.value, ValueError)
