"""The four logs of the FAQ and their upkeep: the virus log and connection status log
(what clients report), the update logs (server and client), the system event log, how long
each is kept, and CSV export. Appending to a log keeps working after the license lapses.

- `events`: the system event log (システムイベントログ)
- `client_logs`: virus log, connection status log
- `update_logs`: update logs (server, client)
- `gate`: the policy gate of low-level log appends
- `retention`: ログ管理 (retention, purge)
- `export`: CSV export
"""

__all__ = ["client_logs", "events", "export", "gate", "retention", "update_logs"]
