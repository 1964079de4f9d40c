# Sourced by scripts/test.sh: makes sure the e-mail tests' real servers can
# start: Dovecot (IMAP and POP3, Debian packages) and the aiosmtpd SMTP
# server (PyPI, in a virtual environment), and exports where the latter's
# Python is as PARLEY_TEST_SMTP_PYTHON. Quiet and quick when all is there.

if ! command -v dovecot >/dev/null || ! command -v openssl >/dev/null; then
    echo "installing Dovecot (Debian packages)"
    # Never let the package start a system-wide Dovecot on the standard ports.
    [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        dovecot-imapd dovecot-pop3d openssl >/dev/null
fi
command -v dovecot >/dev/null || { echo "Dovecot is missing" >&2; exit 1; }

peers_venv="${PARLEY_PEERS_VENV:-$HOME/.cache/parley/peers-venv}"
if [ ! -x "$peers_venv/bin/python" ] || ! "$peers_venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
    echo "installing aiosmtpd (PyPI) into $peers_venv"
    source scripts/python-venv.sh
    python_tool_venv "$peers_venv" 'aiosmtpd==1.4.6'
fi
export PARLEY_TEST_SMTP_PYTHON="$peers_venv/bin/python"
