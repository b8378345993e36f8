"""The server's data directory and what can go wrong with it: where each file lives,
opening its database, atomic writes and their temporary files, and storage faults as one
clear error.

- `datadir`: paths and the database
- `tempfiles`: temporary files of atomic writes, swept after a crash
- `errors`: full disk, unusable data directory
"""

__all__ = ["datadir", "errors", "tempfiles"]
