"""Problems shown in the notebook as one clear message instead of a traceback."""

from __future__ import annotations

from hybridx_nb.core.errors import HybridxError


class ReportInputError(HybridxError):
    """A parameter or input problem shown as a short message in the cell output, not as a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython uses this instead of the traceback
        return [f"hybridx: {line}" if i == 0 else f"  {line}" for i, line in enumerate(str(self).splitlines())]


class clean_errors:
    """``with report.clean_errors():`` turns a HybridxError into a short message in the notebook output."""

    def __enter__(self) -> "clean_errors":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and isinstance(exc, HybridxError) and not isinstance(exc, ReportInputError):
            raise ReportInputError(str(exc)) from None
        return False
