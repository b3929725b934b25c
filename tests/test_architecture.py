"""The package's shape, as docs/architecture.md describes it: stages import only downwards, no import cycles,
modules of a few hundred lines, domain citations that resolve, and no path of a developer's machine in the tree.

Standard library only (``ast``): the rules read the source, they do not import it.
"""

from __future__ import annotations

import ast
import re
import subprocess

import pytest
from support import ROOT

PACKAGE = ROOT / "hybridx_nb"
#: Each stage's layer: a module may import its own stage and any stage of a lower layer, never one above or beside.
LAYERS = {
    "core": 0,
    "snapshot": 1,
    "sources": 2, "demo": 2,
    "engine": 3,
    "readiness": 4,
    "remediation": 5, "verify": 5,
    "report": 6,
    "app": 7,
}
MAX_LINES = 400


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return out


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    """Every hybridx_nb module a tree imports (at module level, in functions and under TYPE_CHECKING alike)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("hybridx_nb")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hybridx_nb"):
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
            found.append((node.lineno, node.module))
    return found


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _resolve(name: str, modules: dict[str, ast.Module]) -> str | None:
    """The module an imported dotted name refers to (``a.b.func`` -> ``a.b``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def layering_violations(modules: dict[str, ast.Module]) -> list[str]:
    bad = []
    for module, tree in modules.items():
        src = _stage(module)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                bad.append(f"{module}:{node.lineno}: relative import (write hybridx_nb.… in full)")
        for line, name in _imports(tree):
            target = _resolve(name, modules)
            dst = _stage(target) if target else None
            if src is None or dst is None or src == dst:
                continue
            if src not in LAYERS or dst not in LAYERS:
                bad.append(f"{module}:{line}: stage {src if src not in LAYERS else dst!r} is not in LAYERS")
            elif LAYERS[dst] >= LAYERS[src]:
                bad.append(f"{module}:{line}: {src} (layer {LAYERS[src]}) imports {target} ({dst}, layer "
                           f"{LAYERS[dst]})")
    return sorted(set(bad))


def import_cycles(modules: dict[str, ast.Module]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph = {m: sorted({t for _, n in _imports(tree) if (t := _resolve(n, modules)) and t != m
                        and not m.startswith(t + ".")})  # a module may import its own package's __init__
             for m, tree in modules.items()}
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_stages_import_only_downwards():
    assert layering_violations(_modules()) == []


def test_an_upward_import_is_caught():
    modules = _modules()
    modules["hybridx_nb.engine.match"].body.append(ast.parse("from hybridx_nb.report import verdict").body[0])
    modules["hybridx_nb.snapshot.store"].body.append(ast.parse("import hybridx_nb.sources.common").body[0])
    found = layering_violations(modules)
    assert any("hybridx_nb.engine.match" in v and "report" in v for v in found)
    assert any("hybridx_nb.snapshot.store" in v and "sources" in v for v in found)


def test_no_import_cycles():
    assert import_cycles(_modules()) == []


def test_a_cycle_is_caught():
    modules = _modules()
    modules["hybridx_nb.core.errors"].body.append(ast.parse("from hybridx_nb.core.anchors import SWAP").body[0])
    modules["hybridx_nb.core.anchors"].body.append(ast.parse("from hybridx_nb.core.errors import X").body[0])
    assert ["hybridx_nb.core.anchors", "hybridx_nb.core.errors"] in import_cycles(modules)


def test_modules_stay_a_few_hundred_lines():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}, f"split these modules (over {MAX_LINES} lines): {long}"


def _tracked(*patterns: str) -> list[str]:
    return subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.split()


def test_every_cited_domain_section_exists():
    sections = set(re.findall(r"^## §(\d+)\.", (ROOT / "docs" / "domain.md").read_text(encoding="utf-8"), re.M))
    cited = {}
    for name in _tracked("hybridx_nb", "tests", "bench", "docs", "README.md", "notebooks"):
        path = ROOT / name
        if path.is_file() and path.suffix in {".py", ".md", ".ipynb", ".ps1", ".j2"}:
            for m in re.finditer(r"domain\.md §(\d+)(?:-§?(\d+))?", path.read_text(encoding="utf-8")):
                for n in filter(None, m.groups()):
                    cited.setdefault(n, name)
    assert sections, "docs/domain.md has no '## §N.' headings"
    assert {n: f for n, f in cited.items() if n not in sections} == {}


def test_no_reference_to_documents_outside_the_repository():
    hits = [name for name in _tracked() if (ROOT / name).is_file() and (ROOT / name).suffix in {".py", ".md", ".ipynb"}
            and re.search(r"shared/(DOMAIN|ARCHITECTURE|LAYOUT)\.md|\.\./shared/",
                          (ROOT / name).read_text(encoding="utf-8", errors="replace"))]
    assert hits == []


#: Folders that only exist on someone's machine (written in pieces, so that this file does not match itself).
_MACHINE_ROOTS = ("work/[a-z]", "root/", "home/[a-z]", r"tmp/[\w.-]+/", "private/var/", "Users/[A-Z]")
MACHINE_PATH = re.compile(r"(?<![\w.])(" + "|".join("/" + root for root in _MACHINE_ROOTS)
                          + r"|[A-Z]:\\\\Users\\\\)")


@pytest.mark.parametrize("text,hit", [("see /tmp/pytest-of-root/x", True), ("/" + "home/alice/x", True),
                                      ("C:\\\\Users\\\\bob", True), ("reports/demo/", False)])
def test_machine_path_pattern(text, hit):
    assert bool(MACHINE_PATH.search(text)) is hit


def test_no_path_of_a_developers_machine_in_the_tree():
    hits = []
    for name in _tracked():
        path = ROOT / name
        if not path.is_file() or path.suffix in {".parquet", ".xlsx", ".png"} or name == "tests/test_architecture.py":
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if MACHINE_PATH.search(line):
                hits.append(f"{name}:{i}: {line.strip()[:100]}")
    assert hits == []
