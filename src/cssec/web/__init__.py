"""Web plumbing shared by the vendor service and the C/S Sec. server.

Language negotiation and Babel catalogs, the one error-to-response mapping, CSRF,
password hashing, rate limits, size limits, cache headers and database engines.
Imports `cssec.core` only; never `vendor`, `server` or `client`, which meet over HTTP.
"""
