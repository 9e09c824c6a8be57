"""A logging filter that keeps values out of log lines.

A database error's message can quote a value (a unique key's detail, say), and a traceback
prints it; the registry's log lines keep the exception's type and where it was raised only.
"""

from __future__ import annotations

import logging


class NoValues(logging.Filter):
    """Replace a record's exception by its type and the place it was raised."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            tb = record.exc_info[2]
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else ""
            record.msg = f"{record.getMessage()} [{type(exc).__name__}{where}]"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True
