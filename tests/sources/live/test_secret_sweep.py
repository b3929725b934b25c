"""Secret-marker sweep: every live collector against hostile servers in every failure shape, through the real
``hybridx collect`` command (quiet and ``--verbose``), with fake secrets that the servers echo back.

Asserted for every case: exit code 2, one ``hybridx:`` message naming the failure, no traceback, no snapshot
and no temporary folder written, and no secret (nor its base64 form) in stdout, stderr (logs included) or any
file under the test's folder. The marker is unique per run, so a hit cannot be a coincidence.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from support import ROOT
from support.fake_http import PROXY_VARS
from support.hostile import HTTP_MODES, LDAP_MODES, HostileHTTP, HostileLDAP

pytestmark = pytest.mark.slow

#: What the message must say for each mode (the cause, in the consultant's words).
HTTP_EXPECT = {"401": "401", "400": "400", "500": "500", "redirect": "redirect to http://127.0.0.2 refused",
               "timeout": "no response", "malformed": "not JSON", "nonutf8": "not UTF-8",
               "oversized": "too large", "html": "not JSON"}
LDAP_EXPECT = {"bind-echo": "invalidCredentials", "referral": "referral", "garbage": "no domain controller",
               "silent": "no domain controller"}

# Runs cli.main once per case in one process (the SDKs import once), with short timeouts and a small body cap.
DRIVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from hybridx_nb.app import cli
from hybridx_nb.sources.live import graph_api, guard, okta_api
graph_api.REQUEST_TIMEOUT = okta_api.REQUEST_TIMEOUT = 1.5
guard.MAX_BODY = 100_000
for case in json.loads(sys.argv[2]):
    print("=== case", case["name"], flush=True)
    print("=== case", case["name"], file=sys.stderr, flush=True)
    code = cli.main(case["argv"])
    print("=== exit", case["name"], code, flush=True)
"""


def _configs(tmp_path: Path, kind: str, servers: dict[str, object]) -> list[dict]:
    cases = []
    for mode, server in servers.items():
        cfg = tmp_path / f"{kind}-{mode}.toml"
        if kind == "okta":
            body = f'[okta]\norg_url = "{server.url}"\ntoken = "env:HX_SWEEP_OKTA"\nretries = 1\n'
        elif kind == "graph":
            body = (f'[graph]\ntenant_id = "t"\naccess_token = "env:HX_SWEEP_GRAPH"\nbase_url = "{server.url}/v1.0"\n'
                    "retries = 1\n")
        else:
            body = (f'[ldap]\nurls = ["{server.url}"]\nuser = "svc@corp.example.com"\npassword = "env:HX_SWEEP_LDAP"\n'
                    'tls = "none"\nbase_dn = "DC=corp,DC=example,DC=com"\ntimeout = 2\n')
        cfg.write_text(f'client = "Sweep {kind} {mode}"\n' + body, encoding="utf-8")
        for verbose in (False, True):
            name = f"{kind}-{mode}{'-v' if verbose else ''}"
            argv = ["collect", "--config", str(cfg), "--out", str(tmp_path / "snaps" / name)]
            cases.append({"name": name, "mode": mode, "argv": argv + (["--verbose"] if verbose else [])})
    return cases


def _split(text: str, marker: str) -> dict[str, str]:
    parts, name = {}, None
    for line in text.splitlines():
        if line.startswith(f"=== {marker} "):
            name = line.split()[2]
            parts[name] = ""
        elif name:
            parts[name] += line + "\n"
    return parts


@pytest.mark.parametrize("kind", ["okta", "graph", "ldap"])
def test_no_secret_leaves_any_failure_path(tmp_path: Path, kind: str) -> None:
    secrets = {f"HX_SWEEP_{k.upper()}": f"hxsecret{k}{uuid.uuid4().hex}" for k in ("okta", "graph", "ldap")}
    markers = [s for v in secrets.values() for s in (v, base64.b64encode(v.encode()).decode())]
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(secrets, OKTA_TESTING_TESTINGDISABLEHTTPSCHECK="true", PYTHONUNBUFFERED="1")
    with ExitStack() as stack:
        if kind == "ldap":
            servers = {m: stack.enter_context(HostileLDAP(m)) for m in LDAP_MODES}
        else:
            servers = {m: stack.enter_context(HostileHTTP(m)) for m in HTTP_MODES}
        cases = _configs(tmp_path, kind, servers)
        proc = subprocess.run([sys.executable, "-c", DRIVER, str(ROOT), json.dumps(cases)], capture_output=True,
                              text=True, env=env, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outs, errs = _split(proc.stdout, "case"), _split(proc.stderr, "case")
    expect = LDAP_EXPECT if kind == "ldap" else HTTP_EXPECT
    for case in cases:
        name = case["name"]
        assert f"=== exit {name} 2" in proc.stdout, (name, outs.get(name), errs.get(name))
        err = errs[name]
        assert "hybridx: " in err and "Traceback" not in err, (name, err)
        assert expect[case["mode"]] in err, (name, err)
        assert "nothing" in err, (name, err)  # says nothing was written
    for text in (proc.stdout, proc.stderr):
        for marker in markers:
            assert marker not in text
    assert not (tmp_path / "snaps").exists() or not any((tmp_path / "snaps").iterdir())
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(m.encode() in data for m in markers), path
    print(f"{kind}: {len(cases)} cases ({len(servers)} failure modes x quiet/verbose), no secret printed")
