"""Closing the loop: the staging export, a second assessment and the real first sync, each held against the
prediction (docs/domain.md §12, §13)."""
