"""The vendor service: catalog, contracts, codes, registration, signed status, audit log.

Layout: settings.py (VendorSettings) → runtime.py (open_vendor: migrate, keys, sessions;
`app.state.vendor`) → models/ + migrations/ → keyring.py (HMAC and Ed25519 keys in the
data directory) → services/ (use cases) → api/ (JSON under /api/v1), console/ (support
desk) → app.py (create_app) and cli.py (`cssec vendor …`).
"""
