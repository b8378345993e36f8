"""The vendor's use cases, one module per concern, re-exported here.

Conventions (for the API, the console, bulk issuance and the CLI alike):

- Every service takes a SQLAlchemy ``Session`` first and keyword-only options, owns its
  transaction (commits on success, rolls back and re-raises on error) and writes its
  audit row inside it with ``record_audit(session, actor=..., action=..., target=...,
  before=..., after=...)``. Actions: contract.created, contract.renewed, code.reissued,
  code.revoked, registration.created, key.rotated, user.created, component.published,
  contract.bulk_issued, webhook.added, webhook.removed, outbox.redelivered
  (ActiveUpdate's services live in ``cssec.vendor_service.activeupdate``).
- Keys and time: sessions made by ``Vendor.sessionmaker`` (``app.state.vendor`` or
  ``cssec.vendor_service.runtime.open_vendor``) carry the keyring and the clock in
  ``session.info``; with any other session pass ``keys=<Keyring>`` (and the clock comes
  from ``session.info["clock"]``, else the system clock). "Today" is the UTC date.
- Errors are ``CssecError`` subclasses (core ones, or ``cssec.vendor_service.errors``); inputs
  typed by people are validated into values (``inspect_code`` never raises).
- ``key_or_code`` arguments accept a registration key, an activation code (any typing:
  full-width, missing hyphens, O/0 …) or a contract id (int).

Building blocks for bulk issuance (add rows to the caller's transaction, no commit, no
audit): ``issue_code_row``, ``issue_registration_key_row``, ``replace_code_row``.
"""

from cssec.vendor_service.services._context import transaction
from cssec.vendor_service.services.audit import list_audit, record_audit
from cssec.vendor_service.services.bulk import BulkIssued, issue_bulk_contracts
from cssec.vendor_service.services.catalog import get_product, list_products
from cssec.vendor_service.services.contracts import (
    ContactChange,
    IssuedContract,
    RenewedContract,
    add_months,
    change_contact,
    issue_contract,
    renew_contract,
    term_end,
)
from cssec.vendor_service.services.inspect import CodeInspection, inspect_code
from cssec.vendor_service.services.issuance import (
    current_code_rows,
    issue_code_row,
    issue_registration_key_row,
    issue_replacement_code,
    replace_code_row,
    revoke_code,
)
from cssec.vendor_service.services.keys import rotate_keys
from cssec.vendor_service.services.lineage import (
    CoveredCode,
    RevocationPreview,
    lineage_of,
    revocation_preview,
    superseded_by,
)
from cssec.vendor_service.services.lookup import (
    Resolved,
    find_activation_code,
    find_registration_key,
    formatted_code,
    formatted_key,
    get_contract,
    resolve,
    search_contracts,
)
from cssec.vendor_service.services.notices import (
    note_seat_usage,
    plan_notices,
    record_seat_usage,
)
from cssec.vendor_service.services.outbox import list_messages, redeliver_message
from cssec.vendor_service.services.registrations import IssuedCode, register_server
from cssec.vendor_service.services.status import (
    CodeFacts,
    CodeStanding,
    Standing,
    code_standing,
    issue_status_statement,
    lookup_standing,
)
from cssec.vendor_service.services.users import ROLES, add_user, get_user
from cssec.vendor_service.services.webhooks import (
    EVENTS as WEBHOOK_EVENTS,
)
from cssec.vendor_service.services.webhooks import (
    add_webhook_endpoint,
    emit_event,
    list_webhook_endpoints,
    remove_webhook_endpoint,
)

__all__ = [
    "ROLES",
    "WEBHOOK_EVENTS",
    "BulkIssued",
    "CodeFacts",
    "CodeInspection",
    "CodeStanding",
    "ContactChange",
    "CoveredCode",
    "IssuedCode",
    "IssuedContract",
    "RenewedContract",
    "Resolved",
    "RevocationPreview",
    "Standing",
    "add_months",
    "add_user",
    "add_webhook_endpoint",
    "change_contact",
    "code_standing",
    "current_code_rows",
    "emit_event",
    "find_activation_code",
    "find_registration_key",
    "formatted_code",
    "formatted_key",
    "get_contract",
    "get_product",
    "get_user",
    "inspect_code",
    "issue_bulk_contracts",
    "issue_code_row",
    "issue_contract",
    "issue_registration_key_row",
    "issue_replacement_code",
    "issue_status_statement",
    "lineage_of",
    "list_audit",
    "list_messages",
    "list_products",
    "list_webhook_endpoints",
    "lookup_standing",
    "note_seat_usage",
    "plan_notices",
    "record_audit",
    "record_seat_usage",
    "redeliver_message",
    "register_server",
    "remove_webhook_endpoint",
    "renew_contract",
    "replace_code_row",
    "resolve",
    "revocation_preview",
    "revoke_code",
    "rotate_keys",
    "search_contracts",
    "superseded_by",
    "term_end",
    "transaction",
]
