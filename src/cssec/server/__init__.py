"""The C/S Sec. server: license slots, the Web manager, its JSON API and the scheduler.

Entry points: `cssec.server.app.create_app(settings, *, clock=None, vendor_transport=None)`
and the Typer app `cssec.server.cli.app` (mounted as `cssec server`).
"""
