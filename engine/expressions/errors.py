"""Exceptions raised by the restricted expression language."""

from __future__ import annotations


class ExpressionError(Exception):
    """Raised for any refused or failing expression or script.

    ``str(err)`` is a readable English message naming what was refused or what failed.
    ``err.line`` is the 1-based script line the error refers to (``None`` for single
    expressions or when unknown).
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"{self.message} (line {self.line})"


class ExpressionSyntaxError(ExpressionError, SyntaxError):
    """Unparsable source text.

    It is both an :class:`ExpressionError` and a :class:`SyntaxError`, because
    SpiffWorkflow's DMN engine detects "needs an implicit ``==``" by catching SyntaxError.
    """

    def __init__(
        self,
        message: str,
        line: int | None = None,
        offset: int | None = None,
        text: str | None = None,
    ) -> None:
        SyntaxError.__init__(self, message, ("<expression>", line, offset, text))
        self.args = (message,)
        self.message = message
        self.line = line

    __str__ = ExpressionError.__str__
