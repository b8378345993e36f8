"""cssec: license activation and update entitlement for C/S Sec."""

__version__ = "0.1.0"
