"""Attributing errors to the user's algorithm: file, line, function, simulation time."""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from rustybt.exceptions import ConfigValidationError, RustyBTError, StrategyError

_PACKAGE_DIR = str(Path(__file__).resolve().parent)

#: A strategy's functions: initialize, handle_data, before_trading_start, analyze.
_Function = Callable[..., Any] | None
StrategyFunctions = tuple[_Function, _Function, _Function, _Function]


def strategy_functions(
    script: str, filename: str, namespace: dict[str, Any], given: StrategyFunctions
) -> StrategyFunctions:
    """Run a strategy given as text in ``namespace``; its four functions (None if absent).

    Raises
    ------
    ConfigValidationError
        If functions were given too (a strategy is text or functions, not both).
    StrategyError
        If the text does not compile (``file:line: SyntaxError: ...``) or its
        module-level code raises (named by file and line, chained to the error).
    """
    if any(f is not None for f in given):
        raise ConfigValidationError(
            "pass the algorithm either as script text or as functions, not both"
        )
    try:
        code = compile(script, filename, "exec")
    except SyntaxError as exc:
        # One line naming the place, instead of the compiler's traceback and caret.
        where = f"{exc.filename or filename}:{exc.lineno}"
        raise StrategyError(
            f"{where}: {type(exc).__name__}: {exc.msg}",
            context={"user_file": exc.filename or filename, "user_line": exc.lineno},
        ) from exc
    try:
        exec(code, namespace)
    except RustyBTError:
        raise
    except Exception as exc:
        frame = _user_frame(exc, {filename})
        where, line = (frame.filename, frame.lineno) if frame is not None else (filename, None)
        raise StrategyError(
            f"{where}:{line or '?'}: {type(exc).__name__}: {exc} (while loading the algorithm)",
            context={"user_file": where, "user_line": line, "error": type(exc).__name__},
        ) from exc
    get = namespace.get
    return get("initialize"), get("handle_data"), get("before_trading_start"), get("analyze")


def user_files(
    filename: str, functions: StrategyFunctions, classes: tuple[type, ...] = ()
) -> set[str]:
    """The files of the user's code: errors raised there are named by file and line."""
    files = {filename}
    for fn in functions:
        code = getattr(fn, "__code__", None)
        if code is not None:
            files.add(code.co_filename)
    for cls in classes:
        with suppress(TypeError, OSError):
            files.add(inspect.getfile(cls))
    return files


def _user_frame(exc: BaseException, user_files: set[str]) -> traceback.FrameSummary | None:
    """The innermost traceback frame in the user's files (else outside rustybt)."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if frame.filename in user_files:
            return frame
    for frame in reversed(frames):
        if not str(Path(frame.filename).resolve()).startswith(_PACKAGE_DIR):
            return frame
    return None


class UserCode:
    """A guard around user code: re-raise its errors naming file, line and simulation time.

    rustybt's own errors (bad orders and the like) keep their type and gain the
    location; anything else becomes a :class:`StrategyError` chained to it.
    A plain class rather than a generator's context manager: the loop enters
    one guard per bar, so it is built once and re-entered.

    Parameters
    ----------
    phase
        What runs (``"handle_data"``), for the message.
    user_files
        The files of the user's code (:func:`user_files`).
    now
        Returns the simulation time, asked only when an error is raised.
    """

    __slots__ = ("now", "phase", "user_files")

    def __init__(self, phase: str, user_files: set[str], now: Callable[[], Any]) -> None:
        self.phase = phase
        self.user_files = user_files
        self.now = now

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if exc is None or not isinstance(exc, Exception):
            return False
        if isinstance(exc, RustyBTError):
            self._locate(exc)
            return False
        frame = _user_frame(exc, self.user_files)
        where = f"{frame.filename}, line {frame.lineno}, in {frame.name}" if frame else "?"
        now = self.now()
        raise StrategyError(
            f"{type(exc).__name__}: {exc} -- raised in {self.phase} at {where}, "
            f"simulation time {now}",
            context={
                "phase": self.phase,
                "user_file": frame.filename if frame else None,
                "user_line": frame.lineno if frame else None,
                "sim_time": str(now),
                "error": type(exc).__name__,
            },
        ) from exc

    def _locate(self, exc: RustyBTError) -> None:
        """Add the user's file, line and the simulation time to one of rustybt's errors."""
        if "user_file" in exc.context:
            return
        frame = _user_frame(exc, self.user_files)
        if frame is None:
            return
        now = self.now()
        exc.context.update(user_file=frame.filename, user_line=frame.lineno, sim_time=str(now))
        exc.message = (
            f"{exc.message} (in {self.phase} at {frame.filename}:{frame.lineno}, "
            f"simulation time {now})"
        )
        exc.args = (exc.message,)


def user_code(phase: str, user_files: set[str], now: Callable[[], Any]) -> UserCode:
    """A :class:`UserCode` guard: ``with user_code("handle_data", files, now): ...``."""
    return UserCode(phase, user_files, now)
