"""Web manager accounts: argon2 passwords, the login lockout, server-side sessions.

- `auth`: users, passwords, sessions, lockout
- `errors`
"""

__all__ = ["auth", "errors"]
