"""A TLS machine in the middle, as its own process (test code): it answers on a loopback
port with its OWN self-signed certificate for the server's names (127.0.0.1, localhost),
decrypts, and relays to the real server over TLS, the way an attacker who took over the
route to the server (ARP or DNS spoofing) would.

    python -m tests.helpers.tls_mitm --upstream https://127.0.0.1:P --port Q --record FILE
                                     [--forge-renewal]

`--forge-renewal`: `GET /api/v1/agent/tls-renewals` is answered with a "renewal" from the
real server's current certificate to the attacker's, signed with the attacker's key (the
real certificate is public; its key is not). Every request head that reaches the attacker
in the clear is appended to FILE, so a test can show which secrets never arrived.

Prints `listening <attacker's fingerprint>` once ready.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from cssec.core.certs import (
    certificate_fingerprint,
    der_to_pem,
    make_self_signed,
    pem_to_der,
    sign_renewal,
)

RENEWALS = b"/api/v1/agent/tls-renewals"


class Middle:
    def __init__(self, upstream: str, record: Path, *, forge: bool) -> None:
        parts = urlsplit(upstream)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 443
        self.record = record
        self.forge = forge
        self.key_pem, self.cert_pem = make_self_signed(
            ["127.0.0.1", "localhost"], now=datetime.now(UTC)
        )
        self.fingerprint = certificate_fingerprint(pem_to_der(self.cert_pem))
        self.upstream_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.upstream_ctx.check_hostname = False
        self.upstream_ctx.verify_mode = ssl.CERT_NONE

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp) / "c.pem", Path(tmp) / "k.pem"
            cert.write_bytes(self.cert_pem)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(cert, key)
        return context

    async def real_certificate(self) -> bytes:
        _reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self.upstream_ctx)
        ssl_object = writer.get_extra_info("ssl_object")
        der: bytes = ssl_object.getpeercert(binary_form=True)
        writer.close()
        return der

    async def forged_answer(self) -> bytes:
        real = der_to_pem(await self.real_certificate()).encode("ascii")
        statement = sign_renewal(self.key_pem, real, self.cert_pem, at=datetime.now(UTC))
        # The attacker's statement carries the real certificate as "old": only the
        # signature, made with the attacker's key, is wrong.
        body = json.dumps({"renewals": [statement]}).encode()
        head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
        )
        return head + body

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        with self.record.open("ab") as log:
            log.write(head + b"\n")
        if self.forge and head.split(b" ", 2)[1:2] == [RENEWALS]:
            writer.write(await self.forged_answer())
            await writer.drain()
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(
            self.host, self.port, ssl=self.upstream_ctx
        )
        up_writer.write(head)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def main_async(args: argparse.Namespace) -> None:
    middle = Middle(args.upstream, Path(args.record), forge=args.forge_renewal)
    server = await asyncio.start_server(
        middle.handle, "127.0.0.1", args.port, ssl=middle.server_context()
    )
    print(f"listening {middle.fingerprint}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--forge-renewal", action="store_true")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
