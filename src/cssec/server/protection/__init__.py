"""Protection that keeps working whatever the license state: the real-time scan switch
(リアルタイム検索) and Damage Cleanup Services (ウイルス感染復旧サービス) requests.

- `realtime`: per-client switch and defaults for new clients
- `damage_cleanup`: cleanup requests, delivery by heartbeat, results
- `entry_lists`: lists typed one entry a line (folders, shares, file names)
- `errors`
"""

__all__ = ["damage_cleanup", "entry_lists", "errors", "realtime"]
