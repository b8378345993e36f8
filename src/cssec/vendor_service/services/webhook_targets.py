"""Where webhooks may be posted: public HTTPS hosts, and what the operator names.

A webhook URL is chosen by an admin, but its host is resolved and connected to by the
vendor, from inside the vendor's network. Left open, that is a server-side request
forgery oracle: 169.254.169.254 (cloud metadata), 10.x hosts, loopback ports, each
answered in the delivery log with "Connection refused", a TLS error or a status. So a
target must be:

- https (plain http only with `webhook_allow_http`, for a demo or a test receiver);
- at a public address: not loopback, private (RFC 1918, CGNAT 100.64/10), link-local
  (169.254/16, fe80::/10), unique-local (fc00::/7), multicast, unspecified, reserved or
  otherwise not global (documentation, benchmarking ranges), nor an IPv6 address that
  carries one of those (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16);
- not a cloud metadata name (metadata.google.internal and the like) nor *.localhost;

unless the operator lists the address, its network (CIDR) or the host name in
`webhook_allowed_targets`. A name is resolved once per attempt and every address it
resolves to must pass; the connection then goes to the address that was checked
(`cssec.vendor_service.webhook_transport`), so a DNS answer that changes between the
check and the connection (rebinding) reaches nothing. Checked when an endpoint is added
and again at every delivery (the rules may have changed since, and so may DNS).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) -> the addresses it resolves to; raises OSError when it does not."""

METADATA_NAMES = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
        "metadata.platformequinix.com",
        "metadata.tencentyun.com",
        "kubernetes.default",
        "kubernetes.default.svc",
    }
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# (ja, en) of each refused class, said after "the host is …"
_CLASSES: dict[str, tuple[str, str]] = {
    "loopback": ("ループバックアドレス (このマシン自身)", "a loopback address (this machine)"),
    "private": (
        "プライベートアドレス (社内ネットワーク: RFC 1918 または CGNAT)",
        "a private address (an internal network: RFC 1918 or CGNAT)",
    ),
    "link_local": (
        "リンクローカルアドレス (クラウドのメタデータサービスなど)",
        "a link-local address (such as a cloud metadata service)",
    ),
    "unique_local": (
        "ユニークローカルアドレス (IPv6の社内ネットワーク)",
        "a unique-local address (an internal IPv6 network)",
    ),
    "multicast": ("マルチキャストアドレス", "a multicast address"),
    "unspecified": ("未指定アドレス (0.0.0.0や ::)", "the unspecified address (0.0.0.0 or ::)"),
    "not_public": (
        "インターネット上の公開アドレスではありません (予約済み・文書用など)",
        "not a public Internet address (reserved, documentation and the like)",
    ),
    "metadata": ("クラウドのメタデータサービスの名前", "the name of a cloud metadata service"),
}
ALLOW_SETTING = "CSSEC_VENDOR_WEBHOOK_ALLOWED_TARGETS"
SESSION_KEY = "webhook_policy"


class TargetRefused(Exception):
    """A webhook target the policy refuses, with the reason in Japanese and English (the
    way out included)."""

    def __init__(self, detail_ja: str, detail_en: str) -> None:
        super().__init__(detail_en)
        self.detail_ja = detail_ja
        self.detail_en = detail_en


def address_class(address: IPAddress) -> str | None:
    """The refused class of `address` (a key of _CLASSES), or None for a public address.
    An IPv6 address that embeds an IPv4 one is judged by the IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_class(embedded)
    found: str | None = None
    if address.is_unspecified:
        found = "unspecified"
    elif address.is_loopback:
        found = "loopback"
    elif address.is_link_local:
        found = "link_local"
    elif address.is_multicast:
        found = "multicast"
    elif address in _CGNAT or any(address in net for net in _RFC1918):
        found = "private"
    elif address in _UNIQUE_LOCAL:
        found = "unique_local"
    elif not address.is_global or address.is_reserved or _site_local(address):
        found = "not_public"
    return found


def _site_local(address: IPAddress) -> bool:
    """fec0::/10, deprecated but still routed inside some sites."""
    return isinstance(address, ipaddress.IPv6Address) and address.is_site_local


def _refused(what: str, kind: str) -> TargetRefused:
    ja, en = _CLASSES[kind]
    return TargetRefused(
        f"{what}は{ja}です。送信先にするには、管理者が{ALLOW_SETTING}に"
        "そのアドレス・ネットワーク・ホスト名を書いてください。",
        f"{what} is {en}. To post there, the operator names the address, its network or "
        f"the host in {ALLOW_SETTING}.",
    )


def default_resolver(host: str, port: int) -> list[str]:
    """The system resolver: every address `host` has (IPv4 and IPv6), in its order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:  # a label too long or empty: no such name
        raise OSError(f"{host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PolicySettings(Protocol):
    @property
    def webhook_allowed_targets(self) -> str: ...
    @property
    def webhook_allow_http(self) -> bool: ...


@dataclass(frozen=True)
class TargetPolicy:
    """What the vendor may post webhooks to (the module's docstring says why)."""

    allow_http: bool = False
    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()
    resolver: Resolver = field(default=default_resolver, compare=False)

    @classmethod
    def parse(
        cls, allowed: str, *, allow_http: bool = False, resolver: Resolver = default_resolver
    ) -> TargetPolicy:
        """`allowed`: comma-separated addresses, networks (CIDR) and host names."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for item in (part.strip() for part in allowed.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                hosts.add(ascii_host(item).lower().rstrip("."))
        return cls(allow_http, tuple(networks), frozenset(hosts), resolver)

    @classmethod
    def from_settings(cls, settings: _PolicySettings) -> TargetPolicy:
        return cls.parse(settings.webhook_allowed_targets, allow_http=settings.webhook_allow_http)

    def check(self, scheme: str, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for `host`, every one checked. TargetRefused when
        the policy refuses the target (a name that resolves to both a public and an
        internal address is refused whole); OSError when the name does not resolve.
        An internationalised name is judged in its ASCII (IDNA) form, as it is resolved."""
        host = ascii_host(host)
        self.check_name(host)
        literal = _literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            found = self.resolver(host, port)
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
            if not addresses:
                raise OSError(f"{host} has no address")
        listed = self.listed(host, addresses)
        if not listed:
            for address in addresses:
                self.check_address(address, host=host)
        self.check_scheme(scheme, listed=listed)
        return addresses

    def listed(self, host: str, addresses: Sequence[IPAddress] = ()) -> bool:
        """Whether the operator named this target: its host name, or every address of it."""
        if host.lower().rstrip(".") in self.hosts:
            return True
        return bool(addresses) and all(
            any(a in net for net in self.networks if net.version == a.version) for a in addresses
        )

    def check_scheme(self, scheme: str, *, listed: bool) -> None:
        """https; plain http only with `allow_http` and to a target the operator named."""
        if scheme == "https" or (scheme == "http" and self.allow_http and listed):
            return
        raise TargetRefused(
            "URLは https:// で始めてください (http:// は、CSSEC_VENDOR_WEBHOOK_ALLOW_HTTPを"
            f"有効にしたデモ・試験環境で、{ALLOW_SETTING}に書いた送信先にのみ使えます)。",
            "the URL must start with https:// (http:// only where CSSEC_VENDOR_WEBHOOK_ALLOW_HTTP "
            f"is on, for a demo or a test receiver named in {ALLOW_SETTING}).",
        )

    def check_name(self, host: str) -> None:
        """Refuses a metadata or localhost name before any resolution (an IP literal passes
        here and is judged by `check_address`)."""
        name = host.lower().rstrip(".")
        if name in self.hosts or _literal(name) is not None:
            return
        if name in METADATA_NAMES:
            raise _refused(host, "metadata")
        if name == "localhost" or name.endswith(".localhost"):
            raise _refused(host, "loopback")

    def check_address(self, address: IPAddress, *, host: str) -> None:
        kind = address_class(address)
        if kind is not None:
            what = host if str(address) == host.strip("[]") else f"{host} ({address})"
            raise _refused(what, kind)


def policy_of(session: Session) -> TargetPolicy:
    """The vendor's policy (`Vendor.sessionmaker` puts it in `session.info`); a bare
    session gets the default one, which names nothing."""
    found = session.info.get(SESSION_KEY)
    return found if isinstance(found, TargetPolicy) else TargetPolicy()


def ascii_host(host: str) -> str:
    """`host` as it goes on the wire: an internationalised name in IDNA (xn--) form."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise TargetRefused(
            f"ホスト名 {host!r}が正しくありません。", f"the host name {host!r} is not valid."
        ) from None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
