"""Landflow's restricted expression language.

BPMN gateway conditions, script tasks, timer and multi-instance expressions and DMN cells
are parsed with :func:`ast.parse` and interpreted by a tree-walking interpreter over a
whitelisted subset of Python. User text is never passed to ``eval``/``exec``/``compile``.

* ``validate(source, mode="eval"|"exec")`` - SyntaxError (``ExpressionSyntaxError``, also an
  ExpressionError) for unparsable text, ExpressionError for refused constructs.
* ``evaluate(source, context, functions=None, limits=Limits())`` - value of one expression.
* ``execute(source, context, functions=None, limits=Limits())`` - runs a script; top-level
  assignments write into ``context`` (the task data dict).
* ``default_functions(now)`` - date/time library (now, today, date, datetime, timedelta,
  parse_date, parse_datetime, add_days, iso, duration). ``functions=None`` means this
  library with the system UTC clock; pass ``{}`` for no functions.

Names resolve to task data, then ``functions``, then the safe builtins (len abs min max sum
round int float str bool list dict tuple set sorted reversed enumerate zip range any all).
Methods are whitelisted per type (str, list, tuple, dict, set, date, datetime, time,
timedelta) and only callable; ``obj.key`` reads ``obj['key']`` on dicts. Names and
attributes starting with ``_``, lambdas, imports, def/class, try/with/raise, ``str.format``
and ``%`` formatting are refused. Every call is bounded by :class:`Limits` (steps, seconds,
sequence length, int size, source length) plus a production (memory) budget.
"""

from .api import evaluate, execute, validate
from .errors import ExpressionError, ExpressionSyntaxError
from .jsondata import DataRefused, settle, to_json_data
from .library import default_functions
from .limits import Limits

__all__ = [
    "DataRefused",
    "ExpressionError",
    "ExpressionSyntaxError",
    "Limits",
    "default_functions",
    "evaluate",
    "execute",
    "settle",
    "to_json_data",
    "validate",
]
