"""The pure domain of cssec: codes, license state, policy, schedule, signing and the clock.

Imports only the standard library and `cryptography`; no web, database or network code.
"""
