"""client.toml: parsing, defaults, secret references, and errors that name the file and the key."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from support import ROOT

from hybridx_nb.core.errors import InputError
from hybridx_nb.sources.live.config import ClientConfig, Secret, SecretError, load_config, resolve_secret


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "client.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_documented_example_loads():
    cfg = load_config(ROOT / "examples" / "client.toml")
    assert isinstance(cfg, ClientConfig) and cfg.sources == ["ldap", "okta", "graph"]
    assert cfg.ldap[0].password == Secret("env:HYBRIDX_LDAP_PASSWORD")
    assert cfg.okta.token.ref.startswith("env:") and cfg.graph.client_secret.ref.startswith("env:")


def test_single_domain_defaults(tmp_path: Path):
    cfg = load_config(write(tmp_path, """
client = "Contoso"
[ldap]
url = "ldaps://dc1.corp.contoso.com"
base_dn = "DC=corp,DC=contoso,DC=com"
user = "svc@corp.contoso.com"
password = "env:PW"
"""))
    (ldap,) = cfg.ldap
    assert cfg.client == "Contoso" and ldap.name == "corp.contoso.com" and ldap.urls == ["ldaps://dc1.corp.contoso.com"]
    assert (ldap.tls, ldap.insecure, ldap.bind, ldap.page_size, ldap.mail_objects) == ("auto", False, "simple", 1000,
                                                                                      True)
    assert cfg.okta is None and cfg.graph is None


def test_several_domains_inherit_common_keys(tmp_path: Path):
    (tmp_path / "ca.pem").write_text("x")
    cfg = load_config(write(tmp_path, """
[ldap]
user = "svc@corp.example"
password = "env:PW"
ca_file = "ca.pem"
[[ldap.domains]]
urls = ["ldaps://dc1.corp.example", "ldaps://dc2.corp.example"]
base_dn = "DC=corp,DC=example"
sync_ous = ["OU=Staff,DC=corp,DC=example"]
[[ldap.domains]]
name = "EMEA"
urls = ["ldap://dc1.emea.corp.example"]
base_dn = ["DC=emea,DC=corp,DC=example", "OU=Extra,DC=emea,DC=corp,DC=example"]
password = "keyring:hybridx/emea-svc"
"""))
    first, second = cfg.ldap
    assert first.name == "corp.example" and first.ca_file == tmp_path / "ca.pem" and len(first.urls) == 2
    assert second.name == "EMEA" and second.password == Secret("keyring:hybridx/emea-svc")
    assert second.ca_file == first.ca_file and len(second.base_dns) == 2


@pytest.mark.parametrize("body, key, words", [
    ('[ldap]\nurls = ["ldaps://dc"]\nuser = "u@x"\npassword = "Hunter2-secret"', "password",
     "not a secret reference"),
    ('[ldap]\nurls = ["ldaps://dc"]\nuser = "u@x"\npasword = "env:PW"', "pasword", "unknown key"),
    ('[ldap]\nurls = ["http://dc"]\nuser = "u@x"\npassword = "env:PW"', "urls", "not an ldap"),
    ('[ldap]\nurls = ["ldaps://dc"]\nuser = "u@x"\npassword = "env:PW"\npage_size = 5000', "page_size",
     "out of range"),
    ('[ldap]\nurls = ["ldaps://dc"]\nuser = "u@x"\npassword = "env:PW"\ntls = "off"', "tls", "not one of"),
    ('[ldap]\nurls = ["ldaps://dc"]\nbind = "ntlm"\nuser = "u@x"\npassword = "env:PW"', "user", "DOMAIN\\user"),
    ('[ldap]\nurls = ["ldaps://dc"]\nuser = "u@x"\npassword = "env:PW"\nca_file = "nope.pem"', "ca_file",
     "file not found"),
    ('[ldap]\nurls = ["ldaps://dc"]\nuser = "u@x"', "password", "missing"),
    ('[okta]\norg_url = "https://x.okta.com"', "token", "either token"),
    ('[okta]\norg_url = "http://x.okta.com"\ntoken = "env:T"', "org_url", "plain http"),
    ('[graph]\ntenant_id = "t"\nclient_id = "c"', "client_secret", "exactly one credential"),
    ('[graph]\ntenant_id = "t"\nclient_id = "c"\nclient_secret = "env:S"\nroles = "yes"', "roles",
     "expected bool"),
])
def test_errors_name_file_and_key(tmp_path: Path, body: str, key: str, words: str):
    path = write(tmp_path, body)
    with pytest.raises(InputError) as info:
        load_config(path)
    text = str(info.value)
    assert str(path) in text and f"{key}:" in text and words in text
    assert "Hunter2-secret" not in text  # a value written where a reference belongs is never echoed


def test_file_level_errors(tmp_path: Path):
    with pytest.raises(InputError, match="not valid TOML.*line 2"):
        load_config(write(tmp_path, "[ldap]\nurls = = 1\nuser = 2\n"))
    with pytest.raises(InputError, match="no source configured"):
        load_config(write(tmp_path, 'client = "x"\n'))
    with pytest.raises(InputError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_okta_oauth_and_graph_token(tmp_path: Path):
    cfg = load_config(write(tmp_path, """
[okta]
org_url = "https://contoso.okta.com/"
client_id = "0oa1"
private_key = "env:OKTA_KEY"
app_ids = ["0oa2"]
[graph]
tenant_id = "contoso.onmicrosoft.com"
access_token = "env:GRAPH_TOKEN"
base_url = "http://127.0.0.1:8080/v1.0"
object_identifier = true
"""))
    assert cfg.okta.org_url == "https://contoso.okta.com" and cfg.okta.scopes == ["okta.users.read", "okta.apps.read"]
    assert cfg.graph.access_token == Secret("env:GRAPH_TOKEN") and cfg.graph.object_identifier
    assert cfg.graph.base_url == "http://127.0.0.1:8080/v1.0" and cfg.graph.page_size == 999


def test_secret_repr_never_shows_the_value(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HX_SECRET", "s3cr3t-value")
    secret = Secret("env:HX_SECRET")
    assert secret.reveal() == "s3cr3t-value"
    for text in (repr(secret), str(secret), f"{secret}", repr([secret])):
        assert "s3cr3t" not in text and "env:HX_SECRET" in text


def test_resolve_secret_errors(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HX_UNSET", raising=False)
    with pytest.raises(SecretError, match="HX_UNSET is not set"):
        resolve_secret("env:HX_UNSET")
    with pytest.raises(SecretError, match="not a secret reference") as info:
        resolve_secret("plain-password")
    assert "plain-password" not in str(info.value)


def test_keyring_reference(monkeypatch: pytest.MonkeyPatch):
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: "kr-value" if (service, user) == ("hybridx/ad", "svc") else None
    monkeypatch.setitem(sys.modules, "keyring", fake)
    assert resolve_secret("keyring:hybridx/ad/svc") == "kr-value"
    with pytest.raises(SecretError, match="no keyring entry"):
        resolve_secret("keyring:hybridx/ad/other")
    monkeypatch.setitem(sys.modules, "keyring", None)  # not installed
    with pytest.raises(SecretError, match="pip install keyring"):
        resolve_secret("keyring:hybridx/ad/svc")
