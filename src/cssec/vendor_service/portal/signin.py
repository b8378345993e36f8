"""Signing a customer in by an e-mailed link, and out; the language switch.

`POST /portal/signin` answers the same page ("if the key and address match, a link is on
its way") whatever was typed, after the same work (`services.portal.request_sign_in`);
the mail goes out after the response, so its time is not in the answer either. Requests
are counted per source address, never per key: wrong addresses cost their sender only,
and the link goes only to the contract's stored contact. The link
opens a page with one button: mail scanners that fetch every link in a message do not
use it up, and signing in stays a POST with the CSRF token.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask

from cssec.core.errors import CssecError, InvalidRegistrationKey
from cssec.vendor_service import webkit
from cssec.vendor_service.errors import PortalNotConfigured
from cssec.vendor_service.mailer import build_mail, send_mail, smtp_config
from cssec.vendor_service.portal import web
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services.portal import (
    SignInLink,
    end_portal_session,
    redeem_sign_in,
    request_sign_in,
)
from cssec.web.http import client_ip
from cssec.web.i18n import current_language
from cssec.web.pages import redirect

log = logging.getLogger(__name__)
router = APIRouter(prefix=web.PREFIX, include_in_schema=False)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def link_base(request: Request) -> str:
    """Where the mailed link points: the configured public address, or this request's own
    address when that is a loopback host (a Host header from anywhere else could be forged
    to send the customer's link to someone else's site)."""
    configured = web.vendor_of(request).settings.portal_url
    if configured:
        return configured.rstrip("/")
    if request.url.hostname in LOOPBACK_HOSTS:
        return str(request.base_url).rstrip("/")
    raise PortalNotConfigured()


MAIL_TEXT = {
    "ja": (
        "【C/S Sec.】カスタマーポータルのサインイン用リンク",
        "{customer} ご担当者様\n\n"
        "C/S Sec.カスタマーポータルへのサインイン用リンクをお送りします。\n"
        "このリンクは{minutes}分間、1回だけ使用できます（{expires} (UTC)まで）。\n\n"
        "{link}\n\n"
        "このメールにお心当たりがない場合は、破棄してください。"
        "リンクを開かない限り、何も変更されません。\n",
    ),
    "en": (
        "C/S Sec. customer portal: your sign-in link",
        "Dear {customer},\n\n"
        "Here is your sign-in link to the C/S Sec. customer portal.\n"
        "It works once, for {minutes} minutes (until {expires} UTC).\n\n"
        "{link}\n\n"
        "If you did not ask for it, delete this mail: nothing changes unless the link is "
        "opened.\n",
    ),
}


def send_sign_in_mail(vendor: Vendor, link: SignInLink, url: str) -> None:
    """Mail the link (after the response). A failure is logged; the customer asks again."""
    config = smtp_config(vendor.settings)
    if config is None or link.recipient is None:
        log.warning("portal sign-in link not mailed: no SMTP server is configured")
        return
    subject, body = MAIL_TEXT[link.language]
    text = body.format(
        customer=link.customer or "",
        minutes=vendor.settings.portal_link_minutes,
        expires=link.expires_at.strftime("%Y-%m-%d %H:%M"),
        link=url,
    )
    mail = build_mail(
        config,
        to=link.recipient,
        subject=subject,
        body=text,
        at=vendor.clock.now(),
        notice="portal.sign_in_link",
    )
    try:
        send_mail(config, mail, link.recipient)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("portal sign-in link to %s not sent: %s", link.recipient, exc)


def _minutes(vendor: Vendor) -> timedelta:
    return timedelta(minutes=vendor.settings.portal_link_minutes)


def _limits(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


@router.post("/signin")
def ask_for_link(
    request: Request,
    registration_key: Annotated[str, Form(max_length=64)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    csrf_token: webkit.CsrfToken = "",
) -> Response:
    vendor = web.vendor_of(request)
    webkit.check_csrf(request, csrf_token)
    base = link_base(request)
    if smtp_config(vendor.settings) is None:
        raise PortalNotConfigured()  # say so now, not after a wait for a mail that never comes
    source = client_ip(request)
    form = {"registration_key": registration_key.strip(), "email": email.strip()}
    errors: dict[str, str] = {}
    if not form["registration_key"]:
        errors["registration_key"] = web.gettext(request, "Enter the registration key.")
    if "@" not in form["email"].strip("@"):
        errors["email"] = web.gettext(
            request, "Enter the contact e-mail address of the contract (name@example.co.jp)."
        )
    if errors:
        return web.render(request, "signin.html", viewer=None, form=form, errors=errors,
                      status_code=422)  # fmt: skip
    # Per source address only: a count per key would let anyone who knows a key lock its
    # contact out. The contact's mailbox is protected by request_sign_in (one pending
    # link at a time per contract), and a wrong address mails nobody.
    for limit in _limits(vendor.settings.portal_signin_rate_limit):
        vendor.limiter.hit(limit, "portal-signin-ip", source)
    try:
        with vendor.session() as session:
            link = request_sign_in(
                session,
                form["registration_key"],
                form["email"],
                source=source,
                language=current_language.get(),
                link_lifetime=_minutes(vendor),
            )
    except InvalidRegistrationKey as exc:
        errors["registration_key"] = exc.message(current_language.get())
        return web.render(request, "signin.html", viewer=None, form=form, errors=errors,
                      status_code=422)  # fmt: skip
    response = web.render(request, "signin_sent.html", viewer=None, email=form["email"],
                      minutes=vendor.settings.portal_link_minutes)  # fmt: skip
    if link.recipient is not None:
        url = f"{base}{web.PREFIX}/signin/{link.token}"
        response.background = BackgroundTask(send_sign_in_mail, vendor, link, url)
    return response


@router.get("/signin/{token}")
def link_page(request: Request, token: str) -> Response:
    """What the mailed link opens: one button that signs in (the token is used by the POST)."""
    return web.render(request, "signin_link.html", viewer=None, token=token[:100])


@router.post("/signin/{token}")
def use_link(request: Request, token: str, csrf_token: webkit.CsrfToken = "") -> Response:
    vendor = web.vendor_of(request)
    webkit.check_csrf(request, csrf_token)
    vendor.limiter.hit("30/minute", "portal-link", client_ip(request))
    try:
        with vendor.session() as session:
            grant = redeem_sign_in(session, token[:100])
    except CssecError as exc:
        return web.render(request, "signin.html", viewer=None, status_code=exc.status,
                      form={"registration_key": "", "email": ""}, errors={},
                      error=exc.message(current_language.get()))  # fmt: skip
    # A fresh session: nothing from before the sign-in survives it.
    webkit.start_session(
        request, {web.SESSION_ID: grant.viewer.sign_in_id, web.SESSION_KEY: grant.session_key}
    )
    log.info("portal sign-in: %s (contract %s)", grant.viewer.email, grant.contract_id)
    return redirect(f"{web.PREFIX}/contracts/{grant.contract_id}")


@router.post("/signout")
def sign_out(request: Request, csrf_token: webkit.CsrfToken = "") -> Response:
    webkit.check_csrf(request, csrf_token)
    viewer = web.current_viewer(request)
    if viewer is not None:
        with web.vendor_of(request).session() as session:
            end_portal_session(session, viewer.sign_in_id)
    return webkit.close_session(request, web.gettext(request, "You have signed out."), to=web.HOME)


switch_language = webkit.add_language_route(router, web.WEB)
