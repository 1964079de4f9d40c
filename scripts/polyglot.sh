# Sourced by scripts/test.sh: the tools that build plugins in Python
# (componentize-py, PyPI, in a virtual environment) and JavaScript
# (ComponentizeJS, npm, in plugins/js/node_modules), and where they are:
# PARLEY_COMPONENTIZE_PY and PARLEY_COMPONENTIZE_JS. Quiet and quick when
# all is there.

polyglot_venv="${PARLEY_POLYGLOT_VENV:-$HOME/.cache/parley/polyglot-venv}"
if [ ! -x "$polyglot_venv/bin/componentize-py" ]; then
    echo "installing componentize-py (PyPI) into $polyglot_venv"
    source scripts/python-venv.sh
    python_tool_venv "$polyglot_venv" 'componentize-py==0.25.1'
fi
export PARLEY_COMPONENTIZE_PY="$polyglot_venv/bin/componentize-py"

if [ ! -x plugins/js/node_modules/.bin/componentize-js ]; then
    echo "installing ComponentizeJS (npm) into plugins/js/node_modules"
    (cd plugins/js && npm ci --no-audit --no-fund --loglevel=error)
fi
export PARLEY_COMPONENTIZE_JS="$PWD/plugins/js/node_modules/.bin/componentize-js"
