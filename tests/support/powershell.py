"""Parse PowerShell with a real grammar (tree-sitter-powershell; pwsh itself is not packaged for Debian).

``syntax_errors(text)`` lists every ERROR and MISSING node with its line and column, so a test can assert that a
generated script parses cleanly: an unbalanced brace, a broken string or a stray token shows up here.
"""

from __future__ import annotations

from functools import cache

import tree_sitter
import tree_sitter_powershell


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def parse(text: str | bytes) -> tree_sitter.Tree:
    return _parser().parse(text.encode("utf-8") if isinstance(text, str) else text)


def syntax_errors(text: str | bytes) -> list[str]:
    """Every ERROR or MISSING node as ``line:column kind`` (1-based lines); empty when the script parses."""
    found: list[str] = []
    stack = [parse(text).root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            row, col = node.start_point
            found.append(f"{row + 1}:{col + 1} {'MISSING ' + node.type if node.is_missing else 'ERROR'}")
        stack.extend(node.children)
    return sorted(found)
