"""Name validators: validity and upstream wording."""
import re

import pytest

from apiserver.machinery import names

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def test_dns1123_subdomain():
    assert names.is_dns1123_subdomain("example.com") == []
    assert names.is_dns1123_subdomain("a") == []
    assert names.is_dns1123_subdomain("Upper") == [SUBDOMAIN_MSG]
    assert names.is_dns1123_subdomain("a" * 254) == ["must be no more than 253 characters"]
    assert names.is_dns1123_subdomain("a\n") == [SUBDOMAIN_MSG]  # no `$`-before-newline leniency
    assert names.is_dns1123_subdomain("-a") == [SUBDOMAIN_MSG]
    assert names.is_dns1123_subdomain("") == [SUBDOMAIN_MSG]


def test_dns1123_label():
    assert names.is_dns1123_label("my-name") == []
    assert names.is_dns1123_label("a.b") == ["must not contain dots"]
    assert names.is_dns1123_label("a_b") == [
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
        "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]
    assert names.is_dns1123_label("a" * 64) == ["must be no more than 63 characters"]


def test_dns1035_label():
    assert names.is_dns1035_label("svc-1") == []
    errs = names.is_dns1035_label("1svc")
    assert errs and errs[0].startswith("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                                       "start with an alphabetic character, and end with an alphanumeric character")


def test_qualified_name():
    assert names.is_qualified_name("app.kubernetes.io/name") == []
    assert names.is_qualified_name("MyName") == []
    assert names.is_qualified_name("/a") == ["prefix part must be non-empty"]
    assert names.is_qualified_name("a/") [0] == "name part must be non-empty"
    assert names.is_qualified_name("a/b/c")[0].startswith("a qualified name must consist of")
    assert names.is_qualified_name("a/b/c")[0].endswith(
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")
    assert names.is_qualified_name("x" * 64) == ["name part must be no more than 63 characters"]
    assert names.is_qualified_name("Bad_/x")[0].startswith("prefix part a lowercase RFC 1123 subdomain")


def test_label_value():
    assert names.is_valid_label_value("") == []
    assert names.is_valid_label_value("v1.2_x") == []
    assert names.is_valid_label_value("-x")[0].startswith("a valid label must be an empty string")
    assert names.is_valid_label_value("x" * 64) == ["must be no more than 63 characters"]


def test_identifiers_and_keys():
    assert names.is_c_identifier("_ok1") == []
    assert names.is_c_identifier("1bad")[0].startswith("a valid C identifier must start with alphabetic")
    assert names.is_env_var_name("MY.ENV-name") == []
    assert names.is_env_var_name("1X")[0].startswith("a valid environment variable name must consist of")
    assert names.is_env_var_name("..x") == ["must not start with '..'"]
    assert names.is_relaxed_env_var_name("1 X:y") == []
    assert names.is_relaxed_env_var_name("a=b") != []
    assert names.is_config_map_key("key.name") == []
    assert names.is_config_map_key(".") == ["must not be '.'"]
    assert names.is_config_map_key("..") == ["must not be '..'"]
    assert names.is_config_map_key("a/b")[0].startswith("a valid config key must consist of alphanumeric")


def test_port_names():
    assert names.is_valid_port_name("http") == []
    assert names.is_valid_port_name("h2c-8080") == []
    assert names.is_valid_port_name("1234") == ["must contain at least one letter (a-z)"]
    assert names.is_valid_port_name("a--b") == ["must not contain consecutive hyphens"]
    assert names.is_valid_port_name("-ab") == ["must not begin or end with a hyphen"]
    assert names.is_valid_port_name("HTTP") == [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "must contain at least one letter (a-z)"]
    assert names.is_valid_port_name("a" * 16) == ["must be no more than 15 characters"]
    assert names.is_valid_port_num(0) == ["must be between 1 and 65535, inclusive"]


def test_path_segments():
    assert names.is_valid_path_segment_name("ok") == []
    assert names.is_valid_path_segment_name("..") == ["may not be '..'"]
    assert names.is_valid_path_segment_name(".") == ["may not be '.'"]
    assert names.is_valid_path_segment_name("a/b%c") == ["may not contain '/'", "may not contain '%'"]
    assert names.is_valid_path_segment_prefix("a/") == ["may not contain '/'"]


def test_generate_name():
    name = names.generate_name("web-")
    assert re.fullmatch("web-[bcdfghjklmnpqrstvwxz2456789]{5}", name)
    long = names.generate_name("x" * 100)
    assert len(long) == 63 and long.startswith("x" * 58)
