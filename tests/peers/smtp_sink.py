#!/usr/bin/env python3
"""SMTP server for the e-mail tests: aiosmtpd on 127.0.0.1 with STARTTLS,
implicit TLS and AUTH PLAIN/LOGIN. Every accepted message is written to
OUTDIR as <n>.eml (raw, as received) plus <n>.json (envelope), the .eml
renamed into place last. Recipients listed with --reject get 550 (a
permanent refusal); the first --defer-first DATA commands get 451 (try
again later). Stops on SIGTERM."""
import argparse, itertools, json, logging, os, signal, ssl, threading, time, warnings
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--implicit-tls-port", type=int, default=0)
ap.add_argument("--outdir", required=True)
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--user", default="smtpuser")
ap.add_argument("--password", default="smtppass")
ap.add_argument("--reject", action="append", default=[])
ap.add_argument("--defer-first", type=int, default=0)
a = ap.parse_args()
logging.getLogger("mail.log").addFilter(
    lambda r: "login_data is deprecated" not in r.getMessage() and "auth_require_tls" not in r.getMessage())
warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
os.makedirs(a.outdir, exist_ok=True)
counter = itertools.count(1)
deferred = itertools.count(1)


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in (r.lower() for r in a.reject):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if next(deferred) <= a.defer_first:
            return "451 4.3.0 Temporary failure, try again later"
        n = next(counter)
        base = os.path.join(a.outdir, "%04d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "tls": server.transport.get_extra_info("ssl_object") is not None,
                "auth_login": (session.auth_data.login.decode()
                               if isinstance(session.auth_data, LoginPassword) else None)}
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as %04d" % n


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (mechanism in ("PLAIN", "LOGIN") and isinstance(auth_data, LoginPassword)
          and auth_data.login == a.user.encode() and auth_data.password == a.password.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(a.cert, a.key)
controllers = [Controller(Handler(), hostname="127.0.0.1", port=a.port, tls_context=tls,
                          require_starttls=True, auth_require_tls=True, auth_required=True,
                          authenticator=authenticator, server_hostname="localhost")]
if a.implicit_tls_port:
    controllers.append(Controller(Handler(), hostname="127.0.0.1", port=a.implicit_tls_port,
                                  ssl_context=tls, auth_require_tls=False, auth_required=True,
                                  authenticator=authenticator, server_hostname="localhost"))
for c in controllers:
    c.start()
print("READY", flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
stop.wait()
for c in controllers:
    c.stop()
