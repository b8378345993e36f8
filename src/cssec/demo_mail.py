"""A mail catcher for the demo and the journeys: a real SMTP server on loopback that keeps
every message it receives, and a page listing them (the portal's sign-in links, the
contract notices), so that a journey that mails someone can be walked without a mail server.

`python -m cssec.demo_mail --smtp-port P --web-port Q --dir D` serves both until stopped;
the vendor then sends with CSSEC_VENDOR_SMTP_HOST=127.0.0.1, CSSEC_VENDOR_SMTP_PORT=P,
CSSEC_VENDOR_SMTP_SECURITY=none. Standard library only: it is no product part, and never
listens beyond loopback. Each message is kept as D/NNNN.eml (what the SMTP client sent).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

LOOPBACK = "127.0.0.1"
MAX_MESSAGE = 10 * 1024 * 1024
_URL = re.compile(r"https?://[^\s<>\"')]+")


@dataclass(frozen=True)
class Mail:
    number: int
    sender: str
    recipients: list[str]
    subject: str
    date: str
    body: str


def read_mail(path: Path) -> Mail:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if part is not None else ""
    return Mail(
        number=int(path.stem),
        sender=str(message.get("From", "")),
        recipients=[str(message.get("To", ""))],
        subject=str(message.get("Subject", "")),
        date=str(message.get("Date", "")),
        body=str(body).replace("\r\n", "\n"),
    )


class Mailbox:
    """The directory of received messages; numbered in the order they arrived."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def add(self, data: bytes) -> Path:
        with self._lock:
            number = len(list(self.directory.glob("*.eml"))) + 1
            path = self.directory / f"{number:04d}.eml"
            path.write_bytes(data)
            return path

    def mails(self) -> list[Mail]:
        """Newest first."""
        return [read_mail(p) for p in sorted(self.directory.glob("*.eml"), reverse=True)]


class _SmtpHandler(socketserver.StreamRequestHandler):
    """The part of RFC 5321 a submitting client uses: EHLO/HELO, MAIL, RCPT, DATA, RSET,
    NOOP, QUIT (no relay, no auth, no STARTTLS: loopback only)."""

    mailbox: ClassVar[Mailbox]
    timeout = 60

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self.reply("220 cssec-demo-mail ESMTP")
        self.sender: str | None = None
        self.recipients: list[str] = []
        for raw in self._lines():
            upper = raw.upper()
            if upper.startswith("EHLO"):
                for line in ("250-cssec-demo-mail", "250-8BITMIME", "250-SMTPUTF8"):
                    self.reply(line)
                self.reply(f"250 SIZE {MAX_MESSAGE}")
            elif upper.startswith("HELO"):
                self.reply("250 cssec-demo-mail")
            elif upper.startswith("MAIL FROM:"):
                self.sender, self.recipients = _address(raw[10:]), []
                self.reply("250 OK")
            elif upper.startswith("RCPT TO:"):
                self._recipient(raw[8:])
            elif upper.startswith("DATA"):
                if not self._message():
                    return
            elif upper.startswith(("RSET", "NOOP")):
                if upper.startswith("RSET"):
                    self.sender, self.recipients = None, []
                self.reply("250 OK")
            elif upper.startswith("QUIT"):
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _recipient(self, text: str) -> None:
        if self.sender is None:
            self.reply("503 MAIL first")
            return
        self.recipients.append(_address(text))
        self.reply("250 OK")

    def _message(self) -> bool:
        """DATA: keeps the message; False when the client went away in the middle."""
        if not self.recipients:
            self.reply("503 RCPT first")
            return True
        self.reply("354 End data with <CR><LF>.<CR><LF>")
        data = self._data()
        if data is None:
            return False
        self.mailbox.add(data)
        self.sender, self.recipients = None, []
        self.reply("250 OK: kept")
        return True

    def _lines(self) -> Iterator[str]:
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            yield line.decode("utf-8", errors="replace").rstrip("\r\n")

    def _data(self) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(MAX_MESSAGE)
            if not line:
                return None
            if line in {b".\r\n", b".\n"}:
                return b"".join(chunks)
            if line.startswith(b"."):
                line = line[1:]  # dot-stuffing
            size += len(line)
            if size <= MAX_MESSAGE:
                chunks.append(line)


def _address(text: str) -> str:
    text = text.strip()
    if text.startswith("<"):
        return text[1 : text.find(">")] if ">" in text else text[1:]
    return text.split()[0] if text else ""


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _linked(text: str) -> str:
    """The body, escaped, with its URLs as links (class mail-link: the journeys read them)."""
    pieces: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        pieces.append(html.escape(text[last : match.start()]))
        url = html.escape(match.group(0))
        pieces.append(f'<a class="mail-link" href="{url}">{url}</a>')
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)


PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="3">
<title>受信メール (Received mail) — cssec demo</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
article{{border:1px solid #999;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}}
pre{{white-space:pre-wrap}} .meta{{color:#333}}</style></head>
<body><h1>受信メール <small>(Received mail)</small></h1>
<p>デモのライセンスサーバが送信したメールです (SMTP {smtp})。3秒ごとに更新します。
Mail the demo's license service sent, newest first; this page reloads every 3 s.</p>
{mails}
</body></html>
"""


def render_page(mails: list[Mail], smtp: str) -> str:
    if not mails:
        listed = '<p data-testid="no-mail">まだメールはありません。(No mail yet.)</p>'
    else:
        listed = "\n".join(
            f'<article class="mail" data-number="{m.number}">'
            f"<h2>{html.escape(m.subject)}</h2>"
            f'<p class="meta">From: {html.escape(m.sender)}<br>To: '
            f"{html.escape(', '.join(m.recipients))}<br>{html.escape(m.date)}</p>"
            f"<pre>{_linked(m.body)}</pre></article>"
            for m in mails
        )
    return PAGE.format(mails=listed, smtp=html.escape(smtp))


class _WebHandler(BaseHTTPRequestHandler):
    mailbox: ClassVar[Mailbox]
    smtp: ClassVar[str]

    def do_GET(self) -> None:
        mails = self.mailbox.mails()
        if self.path.split("?")[0] == "/api/mails":
            body = json.dumps([m.__dict__ for m in mails], ensure_ascii=False).encode("utf-8")
            kind = "application/json"
        elif self.path.split("?")[0] == "/":
            body = render_page(mails, self.smtp).encode("utf-8")
            kind = "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclass
class MailCatcher:
    """Both servers, each on its own thread; `smtp_port`/`web_port` 0 picks free ports."""

    directory: Path
    smtp_port: int = 0
    web_port: int = 0

    def start(self) -> MailCatcher:
        mailbox = Mailbox(self.directory)
        smtp_handler = type("Smtp", (_SmtpHandler,), {"mailbox": mailbox})
        self._smtp = _SmtpServer((LOOPBACK, self.smtp_port), smtp_handler)
        self.smtp_port = self._smtp.server_address[1]
        smtp = f"{LOOPBACK}:{self.smtp_port}"
        web_handler = type("Web", (_WebHandler,), {"mailbox": mailbox, "smtp": smtp})
        self._web = ThreadingHTTPServer((LOOPBACK, self.web_port), web_handler)
        self.web_port = self._web.server_address[1]
        for server in (self._smtp, self._web):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.web_port}/"

    def stop(self) -> None:
        for server in (self._smtp, self._web):
            server.shutdown()
            server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m cssec.demo_mail",
        description="A loopback SMTP server that keeps what it receives, and a page of it.",
    )
    parser.add_argument("--smtp-port", type=int, default=8025, help="SMTP port (default 8025)")
    parser.add_argument("--web-port", type=int, default=8026, help="page port (default 8026)")
    parser.add_argument("--dir", type=Path, default=Path("mail"), help="where mails are kept")
    args = parser.parse_args(argv)
    catcher = MailCatcher(args.dir, args.smtp_port, args.web_port).start()
    print(f"SMTP: {LOOPBACK}:{catcher.smtp_port}  mailbox: {catcher.url}", flush=True)  # noqa: T201
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        catcher.stop()


if __name__ == "__main__":
    main()
