"""Sources: everything that turns an origin (export files, live directories) into canonical frames.

Export readers: ``exports.read_exports`` (all files into one ``Snapshot``), and per format ``ad_csv``, ``ldif``,
``entra_export``, ``okta_export``, ``tenant_export``; each returns a ``common.ReadResult``. Nothing outside this
package knows a source's quirks.
"""

from hybridx_nb.sources.common import ReadResult

__all__ = ["ReadResult"]
