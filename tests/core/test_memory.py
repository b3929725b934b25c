"""Arrow's pool: jemalloc with a shorter decay, unless the environment chose the pool or jemalloc's settings."""

import pyarrow as pa
import pytest

from hybridx_nb.core import memory


@pytest.fixture
def decay_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(pa, "jemalloc_set_decay_ms", calls.append)
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    monkeypatch.delenv("JE_ARROW_MALLOC_CONF", raising=False)
    return calls


def test_jemalloc_is_used_with_the_shorter_decay(decay_calls: list[int]) -> None:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow build has no jemalloc")
    assert memory.use_jemalloc() == "jemalloc"
    assert decay_calls == [memory.DECAY_MS]


def test_a_jemalloc_setting_given_by_hand_is_kept(decay_calls: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JE_ARROW_MALLOC_CONF", "dirty_decay_ms:5000")
    memory.use_jemalloc()
    assert decay_calls == []


def test_a_pool_chosen_by_the_environment_is_kept(decay_calls: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    before = pa.default_memory_pool().backend_name
    assert memory.use_jemalloc() == before
    assert decay_calls == []
