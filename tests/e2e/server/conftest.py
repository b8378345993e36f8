"""Fixtures of the server's end-to-end tests: real vendor and server processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.helpers.e2e_server import Stack, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("server-e2e")) as running:
        yield running
