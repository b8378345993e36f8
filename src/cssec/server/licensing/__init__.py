"""The license as the FAQ describes it: installing with a code, the two license slots
(C/S Sec., Damage Cleanup Services), activating a new code (新規入力), online status checks
(manual and on the 90/60/30/1/0-day schedule), trusting the vendor's signed statements, and the
clock guard that stops a clock set back from reviving a license.

- `install`: `cssec server install` (no code, no install)
- `activation`: entering a new code (新規入力)
- `online_check`: checking status online (by hand, on the schedule)
- `vendor_status`: the vendor's signed status of a code, with the keys pinned to verify it
- `env`: `LicenseEnv`, what the license services need (database, clock, vendor)
- `slots`: writing a slot and its license.activated event
- `state`: the one computation of a slot's state (with the clock guard) used by every gate
- `refusals`: the vendor's signed revocation / rejection acted on, and the confirmation rule
- `view`: what 製品ライセンス and `GET /api/v1/licenses` show
- `statements`: verifying a vendor status statement (nonce-bound) and a signed revocation
- `trust`: which vendor keys are trusted (never on first use) and pinning them
- `vendor_client`: registration, status and keys over HTTP
- `scheduler`: the automatic status checks
- `clockguard`: the latest time seen
- `errors`
"""

__all__ = [
    "activation",
    "clockguard",
    "env",
    "errors",
    "install",
    "online_check",
    "refusals",
    "scheduler",
    "slots",
    "state",
    "statements",
    "trust",
    "vendor_client",
    "vendor_status",
    "view",
]
