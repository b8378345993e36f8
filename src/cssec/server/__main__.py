"""`python -m cssec.server …`: the same commands as `cssec server …`."""

from cssec.server.cli import app

app(prog_name="cssec server")
