"""Parameter spaces: the values a search may give each parameter of a strategy.

A :class:`ParameterSpace` maps names (which become names in the strategy's
namespace) to an :class:`Int`, :class:`Float` or :class:`Categorical`. It feeds
optuna (``suggest``, ``distributions``, ``grid_search_space``), enumerates
grids, checks parameter sets, parses the CLI's ``--param`` specs and
round-trips through JSON (a resumed study checks it searches the same space).
"""

from __future__ import annotations

import itertools
import keyword
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, TypeAlias

from rustybt.exceptions import ParameterValidationError

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution

Choice: TypeAlias = str | int | float | bool | None

# How close to a whole number of steps a float must be (optuna's own test).
STEP_TOLERANCE = 1e-8


def _decimal(value: float) -> Decimal:
    """The number as typed: its shortest round-trip repr (0.1 -> Decimal('0.1'))."""
    return Decimal(repr(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _invalid(param: object, problem: str) -> ParameterValidationError:
    """The error of a parameter built or used wrongly: ``Int(5, 52, step=5): ...``."""
    return ParameterValidationError(f"{param!r}: {problem}")


def _preview(values: list[Any]) -> str:
    shown = [repr(v) for v in values]
    return ", ".join(shown if len(shown) <= 6 else [*shown[:3], "...", *shown[-2:]])


@dataclass(frozen=True, repr=False)
class Int:
    """Integers from ``low`` to ``high`` (inclusive) in steps of ``step``.

    Examples
    --------
    >>> Int(5, 20, step=5).values()
    [5, 10, 15, 20]
    >>> try:
    ...     Int(5, 22, step=5)
    ... except ParameterValidationError as exc:
    ...     print(exc)
    Int(5, 22, step=5): high - low (17) is not a multiple of step 5
    """

    low: int
    high: int
    step: int = 1

    def __post_init__(self) -> None:
        for field in ("low", "high", "step"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise _invalid(self, f"{field} must be an int, not {value!r}")
            object.__setattr__(self, field, int(value))
        if self.step <= 0:
            raise _invalid(self, "step must be positive")
        if self.low > self.high:
            raise _invalid(self, "low is above high")
        if (span := self.high - self.low) % self.step:
            raise _invalid(self, f"high - low ({span}) is not a multiple of step {self.step}")

    def __repr__(self) -> str:
        step = "" if self.step == 1 else f", step={self.step!r}"
        return f"Int({self.low!r}, {self.high!r}{step})"

    def values(self) -> list[int]:
        """Every value, ascending."""
        return list(range(self.low, self.high + 1, self.step))

    def check(self, value: Any) -> int:
        """``value`` as an int, if it is one of the values."""
        if not _is_number(value) or not float(value).is_integer():
            raise _invalid(self, f"{value!r} is not an integer")
        if not self.low <= int(value) <= self.high or (int(value) - self.low) % self.step:
            raise _invalid(self, f"{value!r} is not one of {_preview(self.values())}")
        return int(value)

    def suggest(self, trial: optuna.Trial, name: str) -> int:
        """Draw the value from an optuna trial."""
        return trial.suggest_int(name, self.low, self.high, step=self.step)

    def distribution(self) -> BaseDistribution:
        """The optuna distribution :meth:`suggest` records."""
        from optuna.distributions import IntDistribution

        return IntDistribution(self.low, self.high, step=self.step)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields (``ParameterSpace.from_dict`` reads them)."""
        return {"type": "int", "low": self.low, "high": self.high, "step": self.step}


@dataclass(frozen=True, repr=False)
class Float:
    """Floats from ``low`` to ``high``: continuous, on a ``step`` grid, or log-uniform.

    A step grid holds the values as typed: ``Float(0.1, 0.9, step=0.1)`` gives
    exactly 0.1, 0.2, ..., 0.9 (decimal arithmetic, no 0.30000000000000004).

    Examples
    --------
    >>> Float(0.1, 0.5, step=0.1).values()
    [0.1, 0.2, 0.3, 0.4, 0.5]
    >>> try:
    ...     Float(0.0, 1.0, log=True)
    ... except ParameterValidationError as exc:
    ...     print(exc)
    Float(0.0, 1.0, log=True): log=True needs low > 0
    """

    low: float
    high: float
    step: float | None = None
    log: bool = False

    def __post_init__(self) -> None:
        for field in ("low", "high", "step"):
            value = getattr(self, field)
            if value is None and field == "step":
                continue
            if not _is_number(value) or not math.isfinite(value):
                raise _invalid(self, f"{field} must be a finite number, not {value!r}")
            object.__setattr__(self, field, float(value))
        if not isinstance(self.log, bool):
            raise _invalid(self, "log must be True or False")
        if self.low > self.high:
            raise _invalid(self, "low is above high")
        if self.log and self.step is not None:
            raise _invalid(self, "log=True takes no step")
        if self.log and self.low <= 0:
            raise _invalid(self, "log=True needs low > 0")
        if self.step is not None and self.step <= 0:
            raise _invalid(self, "step must be positive")
        span = _decimal(self.high) - _decimal(self.low)
        if self.step is not None and span % _decimal(self.step):
            raise _invalid(self, f"high - low ({span}) is not a multiple of step {self.step!r}")

    def __repr__(self) -> str:
        step = "" if self.step is None else f", step={self.step!r}"
        return f"Float({self.low!r}, {self.high!r}{step}{', log=True' if self.log else ''})"

    def values(self) -> list[float]:
        """Every value of the step grid, ascending (without a step: refused)."""
        if self.step is None:
            raise _invalid(self, "no step, so no grid: give it a step to search a grid")
        low, step = _decimal(self.low), _decimal(self.step)
        count = int((_decimal(self.high) - low) / step)
        return [float(low + i * step) for i in range(count + 1)]

    def check(self, value: Any) -> float:
        """``value`` as a float in range (on a step grid: the grid value as typed)."""
        if not _is_number(value) or not math.isfinite(value):
            raise _invalid(self, f"{value!r} is not a finite number")
        if not self.low <= float(value) <= self.high:
            raise _invalid(self, f"{value!r} is out of range")
        if self.step is None:
            return float(value)
        k = (float(value) - self.low) / self.step
        if abs(k - round(k)) >= STEP_TOLERANCE:
            raise _invalid(self, f"{value!r} is not on the step grid")
        return float(_decimal(self.low) + round(k) * _decimal(self.step))

    def suggest(self, trial: optuna.Trial, name: str) -> float:
        """Draw the value from an optuna trial (snapped to the grid value as typed)."""
        value = trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)
        return self.check(value)  # optuna's low + k * step can be off by an ulp

    def distribution(self) -> BaseDistribution:
        """The optuna distribution :meth:`suggest` records."""
        from optuna.distributions import FloatDistribution

        return FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields (``ParameterSpace.from_dict`` reads them)."""
        bounds = {"low": self.low, "high": self.high}
        return {"type": "float", **bounds, "step": self.step, "log": self.log}


@dataclass(frozen=True, repr=False)
class Categorical:
    """One of a list of choices: str, int, float, bool or None (JSON scalars).

    Choices that compare equal (``1``, ``1.0``, ``True``) are refused: optuna
    could not tell them apart.

    Examples
    --------
    >>> Categorical(["sma", "ema"]).check("ema")
    'ema'
    >>> try:
    ...     Categorical([1, True])
    ... except ParameterValidationError as exc:
    ...     print(exc)
    Categorical([1, True]): choices 1 and True are equal
    """

    choices: Sequence[Choice]

    def __post_init__(self) -> None:
        if isinstance(self.choices, str | bytes) or not isinstance(self.choices, Iterable):
            raise _invalid(self, "choices must be a list of values")
        object.__setattr__(self, "choices", tuple(self.choices))
        if not self.choices:
            raise _invalid(self, "no choices")
        for choice in self.choices:
            if not (choice is None or isinstance(choice, str | int | float)):
                raise _invalid(self, f"choice {choice!r} is not a str, int, float, bool or None")
            if isinstance(choice, float) and not math.isfinite(choice):
                raise _invalid(self, f"choice {choice!r} is not finite")
        for first, second in itertools.combinations(self.choices, 2):
            if first == second:
                raise _invalid(self, f"choices {first!r} and {second!r} are equal")

    def __repr__(self) -> str:
        choices = list(self.choices) if isinstance(self.choices, tuple) else self.choices
        return f"Categorical({choices!r})"

    def values(self) -> list[Choice]:
        """Every choice, in declared order."""
        return list(self.choices)

    def check(self, value: Any) -> Choice:
        """The declared choice equal to ``value`` (a bool matches only a bool)."""
        for choice in self.choices:
            if choice == value and isinstance(choice, bool) == isinstance(value, bool):
                return choice
        raise _invalid(self, f"{value!r} is not one of the choices")

    def suggest(self, trial: optuna.Trial, name: str) -> Choice:
        """Draw the value from an optuna trial."""
        return trial.suggest_categorical(name, self.choices)

    def distribution(self) -> BaseDistribution:
        """The optuna distribution :meth:`suggest` records."""
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution(self.choices)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields (``ParameterSpace.from_dict`` reads them)."""
        return {"type": "categorical", "choices": list(self.choices)}


Parameter: TypeAlias = Int | Float | Categorical
_KINDS: dict[str, type[Parameter]] = {"int": Int, "float": Float, "categorical": Categorical}


def _param_error(name: str, problem: str) -> ParameterValidationError:
    return ParameterValidationError(f"parameter {name!r}: {problem}", context={"parameter": name})


class ParameterSpace:
    """Named parameters, in declared order; equal when the same names hold equal parameters.

    Parameters
    ----------
    **params
        Name (a Python identifier: it becomes a name in the strategy's
        namespace) -> :class:`Int`, :class:`Float` or :class:`Categorical`.

    Examples
    --------
    >>> space = ParameterSpace(fast=Int(5, 10, step=5), w=Float(0.1, 0.2, step=0.1))
    >>> space
    ParameterSpace(fast=Int(5, 10, step=5), w=Float(0.1, 0.2, step=0.1))
    >>> space.grid()
    [{'fast': 5, 'w': 0.1}, {'fast': 5, 'w': 0.2}, {'fast': 10, 'w': 0.1}, {'fast': 10, 'w': 0.2}]
    >>> ParameterSpace.from_dict(space.to_dict()) == space
    True
    """

    def __init__(self, **params: Parameter) -> None:
        if not params:
            raise ParameterValidationError(
                "a parameter space needs a parameter, e.g. ParameterSpace(fast=Int(5, 50, step=5))"
            )
        for name, param in params.items():
            if not name.isidentifier() or keyword.iskeyword(name):
                raise _param_error(name, "the name must be a Python identifier")
            if not isinstance(param, Int | Float | Categorical):
                raise _param_error(name, f"{param!r} is not an Int, Float or Categorical")
        self._params: dict[str, Parameter] = dict(params)

    @property
    def params(self) -> dict[str, Parameter]:
        """Name -> parameter, in declared order (a copy)."""
        return dict(self._params)

    @property
    def names(self) -> list[str]:
        """The parameter names, in declared order."""
        return list(self._params)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={param!r}" for name, param in self._params.items())
        return f"ParameterSpace({inner})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParameterSpace):
            return NotImplemented
        return list(self._params.items()) == list(other._params.items())

    def __hash__(self) -> int:
        return hash(tuple(self._params.items()))

    def grid_search_space(self) -> dict[str, list[Any]]:
        """Name -> every value: the search space of optuna's ``GridSampler``.

        A Float without a step (continuous or log) has no grid: refused.
        """
        values: dict[str, list[Any]] = {}
        for name, param in self._params.items():
            try:
                values[name] = list(param.values())
            except ParameterValidationError as exc:
                raise _param_error(name, str(exc)) from None
        return values

    def grid(self) -> list[dict[str, Any]]:
        """Every combination of values (the first name varies slowest)."""
        values = self.grid_search_space()
        return [
            dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())
        ]

    def grid_size(self) -> int:
        """How many combinations :meth:`grid` holds."""
        return math.prod(len(v) for v in self.grid_search_space().values())

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """Draw every parameter from ``trial`` (optuna records their distributions)."""
        return {name: param.suggest(trial, name) for name, param in self._params.items()}

    def distributions(self) -> dict[str, BaseDistribution]:
        """Name -> the optuna distribution :meth:`suggest` records."""
        return {name: param.distribution() for name, param in self._params.items()}

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check a full parameter set; return it in declared order, values normalised.

        Raises
        ------
        ParameterValidationError
            A parameter is missing or unknown, or a value is out of range, off
            its step or not among its choices; the message names both.

        Examples
        --------
        >>> try:
        ...     ParameterSpace(fast=Int(5, 50, step=5)).validate({"fast": 7})
        ... except ParameterValidationError as exc:
        ...     print(exc)
        parameter 'fast': Int(5, 50, step=5): 7 is not one of 5, 10, 15, ..., 45, 50
        """
        known = ", ".join(self._params)
        for name in params:
            if name not in self._params:
                raise _param_error(name, f"unknown (the space has {known})")
        checked: dict[str, Any] = {}
        for name, param in self._params.items():
            if name not in params:
                raise _param_error(name, f"missing (the space has {known})")
            try:
                checked[name] = param.check(params[name])
            except ParameterValidationError as exc:
                raise _param_error(name, str(exc)) from None
        return checked

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """A JSON-able description; :meth:`from_dict` rebuilds an equal space."""
        return {name: param.to_dict() for name, param in self._params.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> ParameterSpace:
        """The space :meth:`to_dict` described."""
        params: dict[str, Parameter] = {}
        for name, spec in data.items():
            fields = dict(spec) if isinstance(spec, Mapping) else {}
            kind = _KINDS.get(fields.pop("type", None))
            if kind is None:
                raise _param_error(name, f"{spec!r} has no type int, float or categorical")
            try:
                params[name] = kind(**fields)
            except TypeError as exc:
                raise _param_error(name, f"{spec!r} is not a {kind.__name__} ({exc})") from None
            except ParameterValidationError as exc:
                raise _param_error(name, str(exc)) from None
        return cls(**params)

    @classmethod
    def from_specs(cls, specs: Iterable[str]) -> ParameterSpace:
        """The space of the CLI's ``--param`` specs.

        ``name=int:LOW:HIGH[:STEP]``, ``name=float:LOW:HIGH[:STEP]``,
        ``name=logfloat:LOW:HIGH``, ``name=cat:A,B,C`` (each choice read as an
        int, else a float, else true/false/none, else text).

        Examples
        --------
        >>> ParameterSpace.from_specs(["fast=int:5:50:5", "lr=logfloat:1e-4:1e-1"])
        ParameterSpace(fast=Int(5, 50, step=5), lr=Float(0.0001, 0.1, log=True))
        >>> ParameterSpace.from_specs(["k=cat:a,2,0.5,true,none"]).params["k"]
        Categorical(['a', 2, 0.5, True, None])
        >>> try:
        ...     ParameterSpace.from_specs(["fast=int:5:50:5", "fast=int:1:2"])
        ... except ParameterValidationError as exc:
        ...     print(exc)
        parameter spec 'fast=int:1:2': parameter 'fast' is given twice
        """
        if isinstance(specs, str):
            raise ParameterValidationError(f"from_specs takes a list of specs, not {specs!r}")
        params: dict[str, Parameter] = {}
        for spec in specs:
            name, param = _parse_spec(spec)
            if name in params:
                raise _spec_error(spec, f"parameter {name!r} is given twice")
            params[name] = param
        return cls(**params)


def _spec_error(spec: str, problem: str) -> ParameterValidationError:
    return ParameterValidationError(f"parameter spec {spec!r}: {problem}", context={"spec": spec})


def _parse_spec(spec: str) -> tuple[str, Parameter]:
    """``"fast=int:5:50:5"`` -> ``("fast", Int(5, 50, step=5))``."""
    name, equals, body = str(spec).partition("=")
    kind, _, args = body.partition(":")
    name, kind = name.strip(), kind.strip().lower()
    if not equals or not args:
        raise _spec_error(spec, "expected NAME=KIND:ARGS, e.g. fast=int:5:50:5")
    if not name.isidentifier() or keyword.iskeyword(name):
        raise _spec_error(spec, f"the name {name!r} is not a Python identifier")
    parts = [part.strip() for part in args.split(":")]
    try:
        if kind == "int" and len(parts) in (2, 3):
            return name, Int(*(_number(spec, part, int) for part in parts))
        if kind == "float" and len(parts) in (2, 3):
            return name, Float(*(_number(spec, part, float) for part in parts))
        if kind == "logfloat" and len(parts) == 2:
            low, high = (_number(spec, part, float) for part in parts)
            return name, Float(low, high, log=True)
        if kind in ("cat", "categorical"):
            return name, Categorical([_choice(spec, text) for text in args.split(",")])
    except ParameterValidationError as exc:
        if "spec" in exc.context:
            raise
        raise _spec_error(spec, str(exc)) from None
    forms = "int:LOW:HIGH[:STEP], float:LOW:HIGH[:STEP], logfloat:LOW:HIGH or cat:A,B,C"
    raise _spec_error(spec, f"expected {forms}")


def _number(spec: str, text: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(text)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise _spec_error(spec, f"{text!r} is not {noun}") from None


def _choice(spec: str, text: str) -> Choice:
    """A categorical choice typed as written: int, float, true/false/none, else text."""
    text = text.strip()
    if not text:
        raise _spec_error(spec, "empty choice")
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    words: dict[str, Choice] = {"true": True, "false": False, "none": None}
    return words.get(text.lower(), text)
