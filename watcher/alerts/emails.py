"""An email alert as a message, and its addresses as SMTP takes them: each domain in its
ASCII form (IDNA), so that a server without SMTPUTF8 takes an address at bücher.de.

In: a rendered `Message`, the SMTP settings and a header's list of addresses. Out: an
`EmailMessage`, the envelope's recipients. Pure computation; `mail` sends.
"""

from __future__ import annotations

import email.policy
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses

from watcher.alerts.render import Message
from watcher.config import SmtpSettings

_POLICY = email.policy.SMTP.clone(max_line_length=998)  # RFC 5322's line limit


def email_message(smtp: SmtpSettings, to: str, message: Message, message_id: str) -> EmailMessage:
    """The message as multipart plain text + HTML, from the configured sender, marked as
    machine-made so that auto-responders keep quiet."""
    mail = EmailMessage(policy=_POLICY)  # subjects are cut at 200 characters: never folded
    mail["Subject"] = message.subject
    mail["From"] = ascii_domains(smtp.sender)
    mail["To"] = ascii_domains(to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message_id
    # an alert is machine-made: no vacation or out-of-office reply (RFC 3834; Exchange's
    # own header), which would flood the sender's mailbox at every alert
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


def ascii_domains(addresses: str) -> str:
    """`addresses` (a header's list) with each domain in its ASCII form (IDNA: bücher.de is
    xn--bcher-kva.de), which every SMTP server takes: one not in ASCII needs the server's
    SMTPUTF8, which many lack. A local part not in ASCII still needs it."""
    original = getaddresses([addresses])
    found = [(name, _ascii_domain(address)) for name, address in original]
    if found == original or not all(address.isascii() for _, address in found):
        return addresses  # in ASCII already, or needs SMTPUTF8 however written
    return ", ".join(formataddr(pair) for pair in found)


def envelope(addresses: str, only: Sequence[str] = ()) -> list[str]:
    """The SMTP recipients of a `To:` list, as `email_message` writes it (domains in their
    ASCII form), in order, once each; only those of `only`, when given."""
    found = dict.fromkeys(address for _, address in getaddresses([ascii_domains(addresses)]))
    return [address for address in found if not only or address in only]


def needs_smtputf8(addresses: str) -> bool:
    """Whether an address of `addresses` has a local part not in ASCII: no domain form helps."""
    return any(not _ascii_domain(address).isascii() for _, address in getaddresses([addresses]))


def _ascii_domain(address: str) -> str:
    local, at, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}" if at else address
    except UnicodeError:  # no valid IDNA name: the server judges it as it is
        return address
