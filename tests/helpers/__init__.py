"""Helpers shared by the tests, imported by name (`from tests.helpers.server import ...`;
pytest puts the repository root on sys.path, see `pythonpath` in pyproject.toml).

- `server`: an in-process vendor and installed C/S Sec. servers (the server tests' fixtures)
- `protection`: a server with an enrolled client, and moving the clock into each license state
- `updates`: publishing at the vendor; transports that tamper with ActiveUpdate
- `faults`: real processes (vendor, the CLI forked from `tests/faults/zygote.py`), snapshots
- `crash`: crash an operation at every step and judge the restart
- `meddling_proxy`: a loopback proxy in front of the vendor that misbehaves on demand
- `attacker`: a machine in the middle, as its own process (`python -m tests.helpers.attacker`)
- `hostile`: the hostile-input and security tests' vendor and server
- `e2e_server`: real vendor and server processes for end-to-end and browser tests

Entry points that run as their own process stay beside their tests:
`tests/faults/zygote.py` (`python -m tests.faults.zygote`), `tests/faults/crashpoint.py`,
`tests/e2e/server/vendor_launcher.py`, `tests/hostile/fuzz_codes.py`.
"""
