"""The C/S Sec. server: license slots, the Web manager, its JSON API and the scheduler.

Entry points: `cssec.server.app.create_app(settings, *, clock=None, vendor_transport=None)`
and the Typer app `cssec.server.cli.app` (mounted as `cssec server`).
"""

import sys

# httpx's __init__ imports its own command-line client (httpx._main: rich, pygments and
# click, about 5 MB) whenever those happen to be installed, and falls back to a stub `main`
# when they are not. cssec never runs httpx's CLI, so it is marked unavailable here, before
# anything in this package imports httpx (None in sys.modules makes that import fail).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
