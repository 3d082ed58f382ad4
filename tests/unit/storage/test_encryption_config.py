"""--encryption-provider-config parsing and resource matching (no I/O)."""
from __future__ import annotations

import base64
import os
import re

import pytest

from apiserver.assembly.encryption_config import EncryptionConfigError, group_resources, parse, resolver
from apiserver.storage.envelope import AESCBC, Identity, Secretbox

K32 = base64.b64encode(os.urandom(32)).decode()


def config(resources: str) -> str:
    return f"apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n{resources}"


GOOD = config(f"""
- resources: [secrets, deployments.apps]
  providers:
  - aescbc: {{keys: [{{name: key1, secret: {K32}}}, {{name: key0, secret: {K32}}}]}}
  - identity: {{}}
- resources: ["*.batch", "widgets.example.com"]
  providers:
  - secretbox: {{keys: [{{name: s, secret: {K32}}}]}}
""")


def test_a_good_file_gives_chains_in_order():
    entries = parse(GOOD)
    assert [names for names, _ in entries] == [["secrets", "deployments.apps"], ["*.batch", "widgets.example.com"]]
    first = entries[0][1]
    assert isinstance(first.writer, AESCBC) and first.writer.key_name == "key1"
    assert [type(p) for p in first.providers] == [AESCBC, AESCBC, Identity]
    assert isinstance(entries[1][1].writer, Secretbox)


class _R:
    def __init__(self, group, plural, storage=""):
        self.group, self.plural, self.storage_name, self.stored = group, plural, storage or plural, True


def test_keys_resolve_to_the_first_matching_entry():
    lookup = group_resources([_R("", "secrets"), _R("", "configmaps"), _R("apps", "deployments"),
                              _R("batch", "jobs"), _R("batch", "cronjobs")])
    chain_for = resolver(parse(GOOD), lookup)
    assert chain_for("/registry/secrets/ns/a") is chain_for("/registry/deployments/ns/d") is not None
    assert chain_for("/registry/configmaps/ns/c") is None
    assert chain_for("/registry/jobs/ns/j") is chain_for("/registry/cronjobs/ns/c") is not None
    assert chain_for("/registry/example.com/widgets/ns/w") is chain_for("/registry/jobs/ns/j")
    assert chain_for("/registry/example.com/gadgets/ns/w") is None
    assert chain_for("/registry/") is None


def test_wildcards():
    every = resolver(parse(config(f"- resources: ['*.*']\n  providers: [aesgcm: {{keys: [{{name: k, secret: {K32}}}]}}]\n")),
                     group_resources([_R("", "configmaps")]))
    assert every("/registry/configmaps/a/b") is not None
    assert every("/registry/x.io/things/a/b") is not None
    core = resolver(parse(config("- resources: ['*.']\n  providers: [identity: {}]\n")),
                    group_resources([_R("", "configmaps"), _R("apps", "deployments")]))
    assert core("/registry/configmaps/a/b") is not None and core("/registry/deployments/a/b") is None


@pytest.mark.parametrize("text,message", [
    ("- {}", "resources[0].resources: Required value"),
    ("- resources: [Secrets]\n  providers: [identity: {}]", "must be lowercase"),
    ("- resources: [secrets]\n  providers: []", "resources[0].providers: Required value"),
    ("- resources: [secrets]\n  providers: [{aescbc: {keys: []}, identity: {}}]", "exactly one provider type"),
    ("- resources: [secrets]\n  providers: [aescbc: {keys: []}]", "providers[0].aescbc.keys: Required value"),
    ("- resources: [secrets]\n  providers: [aescbc: {keys: [{name: k, secret: 'c2hvcnQ='}]}]",
     "aescbc keys must be 16 or 24 or 32 bytes long (this one is 5)"),
    ("- resources: [secrets]\n  providers: [aescbc: {keys: [{name: k, secret: '!!'}]}]", "not valid base64"),
    ("- resources: [secrets]\n  providers: [kms: {name: x}]", "KMS plugins are not supported"),
    ("- resources: [secrets]\n  providers: [rot13: {}]", "Unsupported value: 'rot13'"),
    ("- resources: [secrets]\n  providers: [identity: {}]\n- resources: [secrets]\n  providers: [identity: {}]",
     "resources[1].resources[0]: Duplicate value"),
])
def test_bad_files_are_refused_naming_the_field(text, message):
    with pytest.raises(EncryptionConfigError, match=re.escape(message)):
        parse(config(text))


def test_wrong_kind_is_refused():
    with pytest.raises(EncryptionConfigError, match="kind must be EncryptionConfiguration"):
        parse("apiVersion: v1\nkind: ConfigMap\n")
