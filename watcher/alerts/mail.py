"""Send one rendered message as email over SMTP, in a daemon thread with timeouts, a
session reused for a round's emails. I/O lives here.

Raises `DeliveryError`: transient for what may pass (a refused connection, SMTP 4xx,
timeouts), permanent for what will not (SMTP 5xx), `RecipientsRefused` for a server that
took the message for some addresses only; server-wide for what is the server's and not the
message's. Nothing past this module sees smtplib errors.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage

from watcher.alerts.emails import needs_smtputf8
from watcher.config import SmtpSettings
from watcher.errors import DeliveryError, RecipientsRefused
from watcher.files import trust_ca
from watcher.normalise import printable
from watcher.transport import certificate_refusal

Refused = dict[str, tuple[int, bytes]]  # smtplib's: recipient -> the server's code and reply


SEND_TIMEOUTS = 4  # an email's whole exchange may take this many SMTP timeouts


class SmtpSession:
    """One SMTP connection for emails sent one after another: opened (and logged in) at the
    first send, reused by the next, closed by `close`. A burst of alerts thus costs one
    handshake and one login, not one each, which providers that limit logins would refuse.
    A reused connection that the server has dropped is opened again once for the send."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp
        host = f"[{smtp.host}]" if ":" in smtp.host else smtp.host
        self.where = f"SMTP {host}:{smtp.port}"
        self._server: smtplib.SMTP | None = None
        self._sending = False  # a send's thread uses the connection (until it ends)

    async def send(self, mail: EmailMessage, to: list[str]) -> Refused:
        """Send `mail` to the addresses `to`; returns those the server refused (every one,
        when none took it). Raises DeliveryError, after which the connection is closed. The
        whole exchange takes at most `SEND_TIMEOUTS` times the SMTP timeout: the timeout
        bounds each wait for the server, and a server that trickles its replies (endless
        "250-" lines, a byte at a time) would otherwise hold the email lane for ever."""
        self._sending = True  # before the thread starts: `close` must not race it
        limit = self.smtp.timeout * SEND_TIMEOUTS
        refused: Refused = {}
        try:
            await asyncio.wait_for(
                in_daemon_thread(lambda: refused.update(self._send(mail, to))), limit
            )
            return refused
        except TimeoutError:
            self._hang_up()
            raise DeliveryError(
                f"{self.where}: the exchange did not end within {limit:g} s (a server that "
                "answers too slowly)", transient=True, server_wide=True,
            ) from None  # fmt: skip

    async def close(self) -> None:
        """Say QUIT and hang up, unless no connection is open or a send cut short (the
        service stopping) still uses it in its thread."""
        if self._server is not None and not self._sending:
            await in_daemon_thread(self._quit)

    def _send(self, mail: EmailMessage, to: list[str]) -> Refused:
        try:
            return self._send_on_a_connection(mail, to)
        except BaseException as exc:
            self._drop()  # in an unknown state: the next send starts anew
            if isinstance(exc, smtplib.SMTPNotSupportedError):  # a local part not in ASCII
                raise self._no_smtputf8(exc) from exc
            if isinstance(exc, OSError):  # smtplib's errors, refused and timed-out connections
                raise _delivery_error(self.where, exc) from exc
            raise
        finally:
            self._sending = False

    def _no_smtputf8(self, exc: smtplib.SMTPNotSupportedError) -> DeliveryError:
        """The server takes no address that is not ASCII (no SMTPUTF8): for a recipient's,
        this email fails for good and the others go on; for the sender's, every email waits
        for a fix of the config, as when the server refuses the sender."""
        sender = needs_smtputf8(self.smtp.sender)
        return DeliveryError(
            f"{self.where}: the server takes no address that is not ASCII (no SMTPUTF8): {exc}",
            transient=sender,
            server_wide=sender,
        )

    def _send_on_a_connection(self, mail: EmailMessage, to: list[str]) -> Refused:
        reused = self._server is not None
        try:
            return _sent(self._connected(), mail, to)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            if not reused:
                raise
            self._drop()  # the server hung up while the connection idled: once more, anew
            return _sent(self._connected(), mail, to)

    def _connected(self) -> smtplib.SMTP:
        if self._server is None:
            server = _unconnected(self.smtp)
            self._server = server  # `_hang_up` reaches its socket while it connects
            try:
                _open(server, self.smtp)
            except OSError as exc:
                tls = self.smtp.security == "tls"
                raise _delivery_error(self.where, exc, connecting=True, tls=tls) from exc
        return self._server

    def _quit(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):  # the server may have gone: hang up anyway
                server.quit()
            server.close()

    def _drop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()

    def _hang_up(self) -> None:
        """From the event loop, while a send's thread still waits on the server: shut the
        socket, so that the thread's read fails and the thread ends."""
        server, self._server = self._server, None
        sock = getattr(server, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


async def in_daemon_thread(work: Callable[[], None]) -> None:
    """Run blocking `work` in a thread of its own that does not keep the process alive.
    asyncio.to_thread's threads are joined at exit: a send that waited on a hung SMTP server
    held a stopping service until the SMTP timeout (30 s by default), past a container's
    10 s grace. The alert of a send cut short this way is left 'sending', and sent again on
    the next start."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.done():  # cancelled meanwhile: no one waits for the outcome
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def run() -> None:
        error: BaseException | None = None
        try:
            work()
        except BaseException as exc:  # handed to the awaiting coroutine
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed: the process is stopping
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=run, name="smtp-send", daemon=True).start()
    await done


def _context(smtp: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if smtp.ca_file is not None:
        trust_ca(context, smtp.ca_file)
    return context


def _unconnected(smtp: SmtpSettings) -> smtplib.SMTP:
    """A client for the server, not yet connected (`_open` connects it)."""
    if smtp.security == "tls":
        server: smtplib.SMTP = smtplib.SMTP_SSL(timeout=smtp.timeout, context=_context(smtp))
    else:
        server = smtplib.SMTP(timeout=smtp.timeout)
    # the name TLS checks the certificate against (SNI too), which smtplib's __init__ sets
    # only when given the host, and then connects before we hold the client
    server._host = smtp.host  # type: ignore[attr-defined]
    return server


def _open(server: smtplib.SMTP, smtp: SmtpSettings) -> None:
    """Connect `server`, secured and logged in as configured; closed again on a failure."""
    try:
        code, greeting = server.connect(smtp.host, smtp.port)
        if code != 220:  # 554: no service here; smtplib goes on to EHLO all the same
            raise smtplib.SMTPConnectError(code, greeting)
        if smtp.security == "starttls":
            server.starttls(context=_context(smtp))
        if smtp.username:
            _login(server, smtp.username, smtp.password or "")
    except BaseException:
        server.close()
        raise


def _sent(server: smtplib.SMTP, mail: EmailMessage, to: list[str]) -> Refused:
    """Send `mail` to `to` through `server`; the recipients it refused (every one, when it
    took none: smtplib raises then, and has reset the exchange, so the connection serves on)."""
    try:
        return server.send_message(mail, to_addrs=to)
    except smtplib.SMTPRecipientsRefused as exc:
        return exc.recipients


def refusal(where: str, to: list[str], refused: Refused) -> RecipientsRefused:
    """What the server's refusal of some or all of `to` means: the addresses refused for now
    (4xx: a full mailbox, greylisting) are tried again alone, those refused for good (5xx:
    no such user) not; those that took the email have it."""
    said = "; ".join(
        f"{address} ({_said(code, reply)})" for address, (code, reply) in refused.items()
    )
    reached = tuple(address for address in to if address not in refused)
    message = f"{where}: recipient refused: {said}"
    if reached:
        message += f"; sent to {', '.join(reached)}"
    retry_to = tuple(address for address, (code, _) in refused.items() if 400 <= code < 500)
    return RecipientsRefused(message, reached=reached, retry_to=retry_to)


def _said(code: int, reply: bytes | str) -> str:
    """A server's reply on one line, as the server's words (its control characters as
    \\xNN, an escape sequence in a reply shown by `watcher alerts` would act on the
    terminal); smtplib's code -1 is a line that began with no reply code, and it keeps the
    line after its first 4 characters."""
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    text = printable(" ".join(text.splitlines()))
    return f"{code} {text}" if code >= 0 else f"a reply with no reply code ({text!r} after it)"


def _delivery_error(
    where: str, exc: OSError, *, connecting: bool = False, tls: bool = False
) -> DeliveryError:
    """smtplib's error as a DeliveryError: transient unless the server said 5xx to this
    email. A failure `connecting` (a greeting other than 220, STARTTLS, the login), a
    refused sender or a reply that is none is the server's or the config's, not the
    email's: server-wide, and transient even when 5xx, so that the alerts wait for a fix
    instead of each going to the dead-letter list. With `tls` (`security: tls`), a server
    that speaks no TLS on the port is told to be one of STARTTLS."""
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        server_wide = connecting or code in (421, -1) or isinstance(exc, smtplib.SMTPSenderRefused)
        return DeliveryError(
            f"{where}: {_said(code, exc.smtp_error)}",
            transient=server_wide or 400 <= code < 500,
            server_wide=server_wide,  # 421: "service not available, closing"
        )
    said = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        said = f"TLS certificate refused: {certificate_refusal(exc, 'smtp.ca_file')}"
    if tls and isinstance(exc, ssl.SSLError) and exc.reason == "WRONG_VERSION_NUMBER":
        said += " (the server speaks no TLS there: port 587 and 25 take security: starttls)"
    return DeliveryError(f"{where}: {said}", transient=True, server_wide=True)


def _login(server: smtplib.SMTP, username: str, password: str) -> None:
    """Log in; a name or password not in ASCII by AUTH PLAIN in UTF-8 (RFC 4616), which
    smtplib cannot send: it encodes every AUTH line as ASCII (CPython issue 73936), and
    raised UnicodeEncodeError, an unexpected error that put each alert in the dead-letter
    list."""
    if (username + password).isascii():
        try:
            server.login(username, password)
        except ValueError as exc:  # binascii.Error: smtplib decodes the challenge unchecked
            raise smtplib.SMTPException(
                f"the server's AUTH challenge is no base64 ({exc})"
            ) from exc
        return
    server.ehlo_or_helo_if_needed()
    if "PLAIN" not in server.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPException(
            "a user name or password not in ASCII needs AUTH PLAIN, which the server does not offer"
        )
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, reply = server.docmd("AUTH", f"PLAIN {token}")
    if code != 235:  # 235: authentication succeeded
        raise smtplib.SMTPAuthenticationError(code, reply)
