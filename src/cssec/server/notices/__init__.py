"""Mail to the administrator (SMTP, real): the settings, the notices and their delivery.

- `mailer`: the SMTP settings (Web manager → 運用管理 → メール通知), validating them, and
  the one function that talks SMTP (`send_mail`: none / STARTTLS / TLS, optional login)
- `service`: notices, each remembered by its occasion so that it goes out once
  (`record_notice`), and delivering them after the deciding transaction committed
  (`deliver_pending`); a failing SMTP server is a system event, never anything more
- `license`: which license notices are due (expiry 90/60/30 days, grace entered, expired,
  online checks failing N times in a row)

Seat notices come from `clients.seats`, outbreak alerts from `outbreak.notify`: both go
through the same `service` and `mailer`.
"""

__all__ = ["license", "mailer", "service"]
