"""Line counting over an export's bytes: the same count as Python's, across the 16 MB steps it works in."""

from __future__ import annotations

import numpy as np

from hybridx_nb.sources.text import count_newlines


def test_count_newlines_agrees_with_bytes_count_across_steps_and_ranges() -> None:
    rng = np.random.default_rng(15)
    data = rng.choice(np.frombuffer(b"ab\n\r", np.uint8), size=(1 << 24) + 4099).tobytes()  # a step and a bit
    for start, stop in ((0, None), (1, None), (5, 9), ((1 << 24) - 3, (1 << 24) + 7), (100, 50), (0, 0)):
        want = data.count(b"\n", start, len(data) if stop is None else stop)
        assert count_newlines(data, start, stop) == want
    assert count_newlines(b"") == 0 and count_newlines(b"\n") == 1
