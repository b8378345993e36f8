"""The C/S Sec. client: enrolls with a C/S Sec. server, keeps the components current
(verified against the vendor's signature), scans with them offline, and reports to the
server. Imports `cssec.core` only; it meets the server over HTTP."""
