"""Name validators worded like kube-apiserver's.

Each `is_*` function returns a list of messages: empty means valid. The wording
matches upstream's `k8s.io/apimachinery/pkg/util/validation` so that a client
reading a 422 sees the same sentence a real cluster would print. Callers wrap a
message into a Cause (`field`, FieldValueInvalid) themselves.
"""
from __future__ import annotations

import random
import re

# ---- message builders (the shapes upstream uses everywhere) -----------------


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def empty_error() -> str:
    return "must be non-empty"


def regex_error(message: str, fmt: str, *examples: str) -> str:
    """`<message> (e.g. 'a' or 'b', regex used for validation is '<fmt>')`."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


def inclusive_range_error(lo: int, hi: int) -> str:
    return f"must be between {lo} and {hi}, inclusive"


def _full(fmt: str) -> re.Pattern:
    # fullmatch, not `^...$`: Python's `$` also matches before a trailing newline.
    return re.compile(fmt)


# ---- qualified names (label/annotation keys, finalizers, ...) ----------------

QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QUALIFIED_NAME_ERR = ("must consist of alphanumeric characters, '-', '_' or '.', "
                      "and must start and end with an alphanumeric character")
QUALIFIED_NAME_MAX_LENGTH = 63
_qualified_name = _full(QUALIFIED_NAME_FMT)


def is_qualified_name(value: str) -> list[str]:
    """`[prefix/]name`: prefix a DNS-1123 subdomain, name at most 63 characters."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part " + empty_error())
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return ["a qualified name "
                + regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part " + empty_error())
    elif len(name) > QUALIFIED_NAME_MAX_LENGTH:
        errs.append("name part " + max_len_error(QUALIFIED_NAME_MAX_LENGTH))
    if not _qualified_name.fullmatch(name):
        errs.append("name part " + regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT,
                                               "MyName", "my.name", "123-abc"))
    return errs


# ---- label values -------------------------------------------------------------

LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
LABEL_VALUE_ERR = ("a valid label must be an empty string or consist of alphanumeric characters, "
                   "'-', '_' or '.', and must start and end with an alphanumeric character")
LABEL_VALUE_MAX_LENGTH = 63
_label_value = _full(LABEL_VALUE_FMT)


def is_valid_label_value(value: str) -> list[str]:
    errs: list[str] = []
    if len(value) > LABEL_VALUE_MAX_LENGTH:
        errs.append(max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _label_value.fullmatch(value):
        errs.append(regex_error(LABEL_VALUE_ERR, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


# ---- DNS names ---------------------------------------------------------------------

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL_ERR = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                     "or '-', and must start and end with an alphanumeric character")
DNS1123_LABEL_MAX_LENGTH = 63
_dns1123_label = _full(DNS1123_LABEL_FMT)

DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
DNS1123_SUBDOMAIN_ERR = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                         "characters, '-' or '.', and must start and end with an alphanumeric character")
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
_dns1123_subdomain = _full(DNS1123_SUBDOMAIN_FMT)

DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
DNS1035_LABEL_ERR = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                     "start with an alphabetic character, and end with an alphanumeric character")
DNS1035_LABEL_MAX_LENGTH = 63
_dns1035_label = _full(DNS1035_LABEL_FMT)


def is_dns1123_label(value: str) -> list[str]:
    """Namespaces, service names, container names."""
    errs: list[str] = []
    if len(value) > DNS1123_LABEL_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _dns1123_label.fullmatch(value):
        if _dns1123_subdomain.fullmatch(value):
            # A valid subdomain but not a label: the only difference is dots.
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """Most object names (pods, configmaps, ...)."""
    errs: list[str] = []
    if len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _dns1123_subdomain.fullmatch(value):
        errs.append(regex_error(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    """Service names (they become DNS names and env var prefixes)."""
    errs: list[str] = []
    if len(value) > DNS1035_LABEL_MAX_LENGTH:
        errs.append(max_len_error(DNS1035_LABEL_MAX_LENGTH))
    if not _dns1035_label.fullmatch(value):
        errs.append(regex_error(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


# ---- identifiers, env vars, config keys, ports -----------------------------------

C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"
C_IDENTIFIER_ERR = ("a valid C identifier must start with alphabetic character or '_', "
                    "followed by a string of alphanumeric characters or '_'")
_c_identifier = _full(C_IDENTIFIER_FMT)


def is_c_identifier(value: str) -> list[str]:
    if not _c_identifier.fullmatch(value):
        return [regex_error(C_IDENTIFIER_ERR, C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")]
    return []


ENV_VAR_NAME_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
ENV_VAR_NAME_ERR = ("a valid environment variable name must consist of alphabetic characters, "
                    "digits, '_', '-', or '.', and must not start with a digit")
_env_var_name = _full(ENV_VAR_NAME_FMT)


def _chdir_prefix_errors(value: str) -> list[str]:
    """Names used as file names in a volume must not climb out of it."""
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


def is_env_var_name(value: str) -> list[str]:
    errs: list[str] = []
    if not _env_var_name.fullmatch(value):
        errs.append(regex_error(ENV_VAR_NAME_ERR, ENV_VAR_NAME_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"))
    errs.extend(_chdir_prefix_errors(value))
    return errs


def is_relaxed_env_var_name(value: str) -> list[str]:
    """The RelaxedEnvironmentVariableValidation rule (on by default since 1.32): printable ASCII but '='."""
    errs: list[str] = []
    if not value or any(not (32 <= ord(c) <= 126) or c == "=" for c in value):
        errs.append("a valid environment variable name must consist only of printable ASCII characters other than '='")
    errs.extend(_chdir_prefix_errors(value))
    return errs


CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
CONFIG_MAP_KEY_ERR = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
_config_map_key = _full(CONFIG_MAP_KEY_FMT)


def is_config_map_key(value: str) -> list[str]:
    """Keys of ConfigMap/Secret data (they become file names in volumes)."""
    errs: list[str] = []
    if len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _config_map_key.fullmatch(value):
        errs.append(regex_error(CONFIG_MAP_KEY_ERR, CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    errs.extend(_chdir_prefix_errors(value))
    return errs


_port_name_charset = re.compile("[-a-z0-9]+")
_port_name_letter = re.compile("[a-z]")


def is_valid_port_name(port: str) -> list[str]:
    """IANA_SVC_NAME (RFC 6335), lower case only as upstream."""
    errs: list[str] = []
    if len(port) > 15:
        errs.append(max_len_error(15))
    if not _port_name_charset.fullmatch(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _port_name_letter.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_valid_port_num(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else [inclusive_range_error(1, 65535)]


# ---- names that appear in URL paths -------------------------------------------------

NAME_MAY_NOT_BE = (".", "..")
NAME_MAY_NOT_CONTAIN = ("/", "%")


def is_valid_path_segment_name(name: str) -> list[str]:
    """Every object name ends up as one URL path segment."""
    for illegal in NAME_MAY_NOT_BE:
        if name == illegal:
            return [f"may not be '{illegal}'"]
    return [f"may not contain '{c}'" for c in NAME_MAY_NOT_CONTAIN if c in name]


def is_valid_path_segment_prefix(prefix: str) -> list[str]:
    """generateName prefixes: only the 'contains' rules apply."""
    return [f"may not contain '{c}'" for c in NAME_MAY_NOT_CONTAIN if c in prefix]


# ---- generateName ------------------------------------------------------------------

# Upstream's alphabet: no vowels (no accidental words), no 0/1/3 (look like o/l/e).
GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
GENERATE_NAME_SUFFIX_LENGTH = 5
_MAX_GENERATED_NAME_LENGTH = 63  # upstream trims the prefix so the result stays a DNS label


def random_suffix(length: int = GENERATE_NAME_SUFFIX_LENGTH) -> str:
    # Not a secret (upstream uses math/rand too); one system call per character was
    # a visible share of every pod create (the service account volume name).
    return "".join(random.choices(GENERATE_NAME_ALPHABET, k=length))


def generate_name(base: str) -> str:
    """`metadata.generateName` + 5 random characters, the prefix cut to keep 63 characters."""
    max_prefix = _MAX_GENERATED_NAME_LENGTH - GENERATE_NAME_SUFFIX_LENGTH
    if len(base) > max_prefix:
        base = base[:max_prefix]
    return base + random_suffix()
