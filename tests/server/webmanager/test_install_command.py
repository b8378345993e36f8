"""The install commands on the Web manager run as printed (issue 23, finding 10): they
began with a bare `cssec`, which is not on PATH where the package lives in a virtual
environment; now with this installation's program by its full path, and a hint for a
client PC that has it elsewhere."""

from __future__ import annotations

import asyncio
import html
import os
import re
import shlex
import subprocess

from tests.helpers.server import Desk, ServerFactory


async def test_the_printed_commands_run_without_cssec_on_path(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    await server.login()
    page = await server.client.get("/clients/install/web")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    issued = await server.client.post("/clients/install/web", data={"csrf_token": token.group(1)})
    commands = [
        html.unescape(found)
        for found in re.findall(
            r'data-testid="(?:install|autopcc)-command">([^<]+)</pre>', issued.text
        )
    ]
    assert len(commands) == 2, commands
    assert 'data-testid="program-hint"' in issued.text
    env = {**os.environ, "PATH": "/usr/bin:/bin"}  # as a new shell has it: no venv
    for command in commands:
        words = shlex.split(command)
        program = words[: words.index("client")]
        helped = await asyncio.to_thread(
            subprocess.run,
            [*program, "client", "install", "--help"],
            env=env, capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert helped.returncode == 0, (command, helped.stderr)
        assert "--server" in helped.stdout
