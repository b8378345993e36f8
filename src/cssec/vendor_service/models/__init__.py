"""The vendor's tables (SQLAlchemy 2.0 typed ORM); the Alembic history in migrations/ creates them.

One module per group of tables, re-exported here so that `from cssec.vendor_service.models
import X` works for any table and importing this package registers them all on
`Base.metadata` (what Alembic and `create_all` read; `activeupdate.models` adds its own):

- `base`: the declarative base, naming convention, UTC datetime column
- `contracts`: products, customers, contracts, registration keys, activation codes
- `registrations`: the servers registered with a key, their status checks
- `audit`: the audit log
- `staff`: support-desk accounts, recovery codes, the login throttle
- `outbox`: webhook endpoints, the outbox and its delivery log, contract notices
- `portal`: the customer portal's sign-in links and sessions
- `admin_api`: admin API tokens, idempotency records, bulk jobs

Serials: a registration key's serial is its row id, an activation code's serial is its
row id. Sequential serials reveal nothing usable because every code carries a MAC.
Timestamps are aware UTC datetimes on every backend (see `UTCDateTime`).
"""

from __future__ import annotations

from cssec.vendor_service.models.admin_api import ApiToken, BulkJob, IdempotencyRecord
from cssec.vendor_service.models.audit import AuditEntry
from cssec.vendor_service.models.base import NAMING_CONVENTION, Base, UTCDateTime
from cssec.vendor_service.models.contracts import (
    ActivationCodeRow,
    Contract,
    ContractProduct,
    Customer,
    ProductRow,
    RegistrationKeyRow,
)
from cssec.vendor_service.models.outbox import (
    ContractNotice,
    DeliveryAttempt,
    OutboxMessage,
    WebhookEndpoint,
)
from cssec.vendor_service.models.portal import PortalSignIn
from cssec.vendor_service.models.registrations import Registration, StatusCheck
from cssec.vendor_service.models.staff import LOGIN_THROTTLE, RecoveryCode, User

__all__ = [
    "LOGIN_THROTTLE",
    "NAMING_CONVENTION",
    "ActivationCodeRow",
    "ApiToken",
    "AuditEntry",
    "Base",
    "BulkJob",
    "Contract",
    "ContractNotice",
    "ContractProduct",
    "Customer",
    "DeliveryAttempt",
    "IdempotencyRecord",
    "OutboxMessage",
    "PortalSignIn",
    "ProductRow",
    "RecoveryCode",
    "Registration",
    "RegistrationKeyRow",
    "StatusCheck",
    "UTCDateTime",
    "User",
    "WebhookEndpoint",
]
