"""Schemathesis hooks for the contract gate (.ci/run loads them with SCHEMATHESIS_HOOKS).

The gate's token grants one workspace. A schema-valid `Workspace-Id` that Schemathesis makes
up would name another workspace and only ever be refused (403), so schema-valid values are
aimed at the granted workspace. Schema-invalid values (negative tests) are left alone, so the
server is still tested on them; Schemathesis's own parameter override would overwrite those
too and then report the server for accepting them.

It also works around a thread-safety bug of CPython 3.11 (below).
"""

import ast
import os
import threading

import schemathesis

# CPython 3.11 keeps the recursion depth of its AST conversion in state that the threads share, so
# two workers parsing at once (Hypothesis parses a strategy's lambda source to describe it) can
# fail with "AST constructor recursion depth mismatch": a runtime error of the tool, not of the
# server. Parsing is serialised; it is rare and short.
_parse = ast.parse
_parse_lock = threading.Lock()


def _serial_parse(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _serial_parse

WORKSPACE = os.environ["SQUARED_ST_WORKSPACE"]
MINIMUM, MAXIMUM = 1, 9007199254740991  # the bounds spec/openapi.yaml gives Workspace-Id


@schemathesis.hook
def map_headers(context, headers):
    if not headers or "Workspace-Id" not in headers:
        return headers
    value = headers["Workspace-Id"]
    try:
        number = int(value)
    except (TypeError, ValueError):
        return headers
    if str(number) == str(value).strip() and MINIMUM <= number <= MAXIMUM:
        headers["Workspace-Id"] = WORKSPACE
    return headers
