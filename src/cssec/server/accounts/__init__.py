"""Web manager accounts: argon2 passwords, the login lockout, server-side sessions.

- `auth`: users, passwords, sessions, lockout
- `errors`
- `password`: changing a password (Web manager, `cssec server admin password`)
"""

__all__ = ["auth", "errors", "password"]
