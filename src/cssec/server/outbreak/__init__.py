"""Outbreaks: the outbreak monitor (アウトブレークモニタ) watching the virus log, its
notifications, and outbreak prevention (大規模感染予防) policies deployed to clients.

- `monitor`: thresholds, alerts
- `notify`: webhook and mail for an alert, after commit
- `prevention`: set, deploy, release a policy
- `errors`
"""

__all__ = ["errors", "monitor", "notify", "prevention"]
