"""The notebook kernel of a run: quiet in the user's terminal, its messages kept in a file.

ipykernel warns on every start that it "is running over TCP without encryption". The kernel of a run talks only to
its own process on this machine, so it uses IPC (Unix sockets in Jupyter's private runtime folder) where the
operating system has them, which is both safer and silent; whatever the kernel still writes to its standard error
(a ZMQ traceback when it is shut down mid-cell, a library's warning) goes to ``kernel.log`` in the run's folder
instead of the terminal (kept with a failed run, dropped with a good one), and its standard output nowhere: what
the notebook prints is captured in the notebook itself. The kernel runs in a session of its own (jupyter_client
starts it so), so Ctrl-C reaches hybridx, which then shuts the kernel down.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir

#: Where a run's kernel writes its standard error (inside the run's temporary folder).
KERNEL_LOG = "kernel.log"


def transport() -> str:
    """``ipc`` where ZeroMQ has Unix sockets (Linux, macOS), else ``tcp`` (Windows)."""
    return "ipc" if os.name == "posix" else "tcp"


def quiet_kernel_manager(log: Path) -> type[AsyncKernelManager]:
    """A kernel manager class for papermill (``kernel_manager_class=``) whose kernels use ``transport()`` and
    write their standard error to ``log``."""

    class QuietKernelManager(AsyncKernelManager):
        _stderr: Any = None

        def __init__(self, **kw: Any) -> None:
            kw.setdefault("transport", transport())
            if kw["transport"] == "ipc":
                # jupyter_client's default socket prefix is "kernel-ipc" in the working folder, where two runs
                # started side by side (hybridx batch --jobs 2) pick the same socket files and read each other's
                # messages ("Invalid Signature"); a prefix of the kernel's own keeps them apart.
                runtime = Path(jupyter_runtime_dir())
                runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
                kw.setdefault("ip", str(runtime / f"hybridx-{uuid.uuid4().hex[:12]}"))
            super().__init__(**kw)

        async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
            cmd, kw = await super()._async_pre_start_kernel(**kw)
            self._stderr = open(log, "ab")  # noqa: SIM115 - closed once the kernel process holds it
            kw.update(stdout=subprocess.DEVNULL, stderr=self._stderr)
            return cmd, kw

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            try:
                await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                if self._stderr is not None:
                    self._stderr.close()
                    self._stderr = None

    return QuietKernelManager
