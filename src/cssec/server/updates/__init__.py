"""Components and updates on the C/S Sec. server: ActiveUpdate downloads, the component
store, the hourly poll, rollback, and what the components page shows. The update logs
(server and client) they write live in `logs.update_logs`.

- `service`: one update from ActiveUpdate (license first), rollback, the installed set
- `fetch`: the signed manifest and each changed file, verified
- `store`: component files on disk, written atomically
- `poller`: the hourly poll
- `install`: the download an online install does before it finishes
- `bundle`: importing a component bundle (air-gapped sites), verified with TUF
- `deltas`: pattern files rebuilt from a published delta, checked, else fetched whole
- `view`: the コンポーネント page and `cssec server components show`
- `errors`
"""

__all__ = ["bundle", "deltas", "errors", "fetch", "install", "poller", "service", "store", "view"]
