"""The C/S Sec. client: enrolls with a C/S Sec. server, keeps the components current
(verified against the vendor's signature), scans with them offline, and reports to the
server. Imports `cssec.core` (and, shared with the server and the vendor, the CLI kit and
`cssec.web.filemodes` for its directory's modes) only; it meets the server over HTTP."""

import sys

# httpx's __init__ imports its own command-line client (httpx._main: rich, pygments and
# click, about 5 MB) whenever those happen to be installed, and falls back to a stub `main`
# when they are not. cssec never runs httpx's CLI, so it is marked unavailable here, before
# anything in this package imports httpx (None in sys.modules makes that import fail).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
