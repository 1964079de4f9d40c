# Sourced by scripts/test.sh: the tools the OpenAPI tests run on the
# document the server serves, from PyPI in a virtual environment:
# openapi-spec-validator (validates it as OpenAPI 3.1) and
# openapi-python-client (generates the client that runs the README's demo
# flow). PARLEY_OPENAPI_TOOLS is the environment's bin directory. Quiet and
# quick when all is there.

openapi_venv="${PARLEY_OPENAPI_VENV:-$HOME/.cache/parley/openapi-venv}"
if [ ! -x "$openapi_venv/bin/openapi-spec-validator" ] || [ ! -x "$openapi_venv/bin/openapi-python-client" ]; then
    echo "installing openapi-spec-validator and openapi-python-client (PyPI) into $openapi_venv"
    source scripts/python-venv.sh
    python_tool_venv "$openapi_venv" 'openapi-spec-validator==0.9.0' 'openapi-python-client==0.29.1'
fi
export PARLEY_OPENAPI_TOOLS="$openapi_venv/bin"
