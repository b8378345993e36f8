"""Clients and the three install routes of the FAQ (web install, remote install, the
AutoPcc-style installer): one-time install tokens, enrollment, authenticating a client's calls.
Client install keeps working after the license has lapsed.

- `enrollment`: tokens, enrollment, client authentication, the clients list
- `seats`: seat accounting (clients seen in the last N days), crossing the seats, removal
- `errors`
"""

__all__ = ["enrollment", "errors", "seats"]
