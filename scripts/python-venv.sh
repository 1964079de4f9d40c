# Sourced by the scripts that install Python tools for the tests:
# `python_tool_venv DIR SPEC...` makes a virtual environment at DIR (with
# Debian's python3-venv if the system Python lacks it) and installs each
# SPEC from PyPI into it.
python_tool_venv() {
    local dir="$1"
    if ! /usr/bin/python3 -m venv "$dir" 2>/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        /usr/bin/python3 -m venv "$dir"
    fi
    "$dir/bin/pip" install -q --disable-pip-version-check "${@:2}"
}
