"""The server's administrator JSON API (/api/v1/licenses, HTTP Basic as admin or the Web
manager session). The API clients call lives in `cssec.server.agent`."""
