"""Fixtures of the server's end-to-end tests: real vendor and server processes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# --import-mode=importlib keeps test directories off sys.path; the helpers are shared by
# this conftest and the test modules.
sys.path.insert(0, str(Path(__file__).parent))

from e2e_server_helpers import Stack, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("server-e2e")) as running:
        yield running
