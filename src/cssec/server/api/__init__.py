"""The server's JSON API (/api/v1). The agent API for clients joins here later."""
