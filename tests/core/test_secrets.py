"""One resolver for secret references, one scrubber for text that may carry a credential."""

from __future__ import annotations

import sys
import types
import uuid
from pathlib import Path

import pytest

from hybridx_nb.app.assess import validate_params
from hybridx_nb.core.errors import InputError
from hybridx_nb.core.secrets import SecretError, resolve_secret, scrub, server_text, url_has_password
from hybridx_nb.report.redact import Redactor, key_from_reference
from hybridx_nb.sources.live.config import load_config


@pytest.fixture
def fake_keyring(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], str]:
    entries: dict[tuple[str, str], str] = {}
    module = types.ModuleType("keyring")
    module.get_password = lambda service, user: entries.get((service, user))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", module)
    return entries


def test_scrub_removes_every_credential_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    value = f"resolved-{uuid.uuid4().hex}"
    monkeypatch.setenv("HX_SCRUB_TEST", value)
    resolve_secret("env:HX_SCRUB_TEST")  # remembered: scrubbed from any later text
    text = (f"echo {value} | Authorization: Bearer abc.def-ghi | authorization=SSWS 00aTok3n | "
            '{"client_secret": "s e c r e t", "password":"p@ss"} | grant=x&client_secret=zz9&code=1 | '
            "https://svc:hunter2@login.example | ldaps://CORP\\svc:pw9@dc1 | eyJhbGciOi.eyJzdWIiOi.c2ln | "
            "access token: AADSTS7000215")
    out = scrub(text)
    for secret in (value, "abc.def-ghi", "00aTok3n", "s e c r e t", "p@ss", "zz9", "hunter2", "pw9", "eyJhbGciOi"):
        assert secret not in out, secret
    assert "Bearer [redacted]" in out and "SSWS [redacted]" in out and "https://svc:[redacted]@login" in out
    assert "access token: AADSTS7000215" in out and "code=1" in out  # prose and harmless fields stay
    long = server_text("x " * 1000 + "Bearer abcdefghij")
    assert len(long) < 400 and "\n" not in long


def test_url_passwords_are_refused_without_echo(tmp_path: Path) -> None:
    assert url_has_password("ldaps://svc:pw@dc1") and url_has_password("https://u:p@x.okta.com")
    assert not url_has_password("ldaps://dc1:636") and not url_has_password("https://x.okta.com/a@b")
    cases = {
        "ldap": '[ldap]\nurls = ["ldaps://svc:Sup3rS3cret@dc1.corp.example.com"]\nuser = "svc@corp"\n'
                'password = "env:X"\n',
        "okta": '[okta]\norg_url = "https://admin:Sup3rS3cret@example.okta.com"\ntoken = "env:X"\n',
        "graph": '[graph]\ntenant_id = "t"\naccess_token = "env:X"\n'
                 'base_url = "https://app:Sup3rS3cret@graph.microsoft.com/v1.0"\n',
    }
    for name, body in cases.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(body, encoding="utf-8")
        with pytest.raises(InputError, match="password") as info:
            load_config(path)
        assert "Sup3rS3cret" not in str(info.value), name


def test_one_resolver_for_the_redaction_key_checked_before_any_work(fake_keyring, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    snap = tmp_path / "snap"
    snap.mkdir()
    params = {"client": "X", "snapshot": str(snap), "redact": True, "redact_key": "keyring:hybridx/redact-key"}
    with pytest.raises(SecretError, match="no keyring entry"):
        validate_params(params)  # before any work: not after the whole assessment ran
    fake_keyring[("hybridx", "redact-key")] = "kr-key-value"
    assert validate_params(params).redact_key == "keyring:hybridx/redact-key"
    assert key_from_reference("keyring:hybridx/redact-key") == b"kr-key-value"  # the report stage agrees
    a, b = Redactor.from_reference("keyring:hybridx/redact-key"), Redactor.from_reference("keyring:hybridx/redact-key")
    assert a.email("x@y.com") == b.email("x@y.com")
    monkeypatch.delenv("HX_NOT_SET_KEY", raising=False)
    with pytest.raises(SecretError, match="HX_NOT_SET_KEY"):
        validate_params({**params, "redact_key": "env:HX_NOT_SET_KEY"})
    with pytest.raises(SecretError, match="not a secret reference") as info:
        validate_params({**params, "redact_key": "the-key-itself"})
    assert "the-key-itself" not in str(info.value)
