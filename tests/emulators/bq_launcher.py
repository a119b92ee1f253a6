"""Start bqemulator offline: `python bq_launcher.py start --rest-host ... ...`.

bqemulator 1.4.0 runs `INSTALL spatial; LOAD spatial` at start and aborts when the
extension download fails (no network here). We replace that hook with one that turns
off DuckDB's extension auto-install (so nothing is ever fetched) and skips spatial;
only GEOGRAPHY / ST_* functions are lost. Then hand over to the real CLI.
"""
import sys

from bqemulator.storage.engine import DuckDBEngine


def _no_spatial(self):
    self._connection.execute("SET autoinstall_known_extensions=false")


DuckDBEngine._load_spatial = _no_spatial

from bqemulator.cli import main  # noqa: E402  (after the patch, on purpose)

sys.exit(main(sys.argv[1:], prog_name="bqemulator"))
