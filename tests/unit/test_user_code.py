"""The guard around user code: errors name the user's file and line, and the guard
is entered again and again (the loop builds it once)."""

from __future__ import annotations

import pytest

from rustybt.exceptions import OrderError, StrategyError
from rustybt.user_code import user_code


def _user_function(error: Exception) -> None:
    raise error


def test_a_foreign_error_becomes_a_strategy_error_naming_the_user_line() -> None:
    guard = user_code("handle_data", {__file__}, lambda: "2024-01-02 21:00")
    for _ in range(2):  # the same guard, entered twice
        with pytest.raises(StrategyError) as raised, guard:
            _user_function(ZeroDivisionError("division by zero"))
        error = raised.value
        assert isinstance(error.__cause__, ZeroDivisionError)
        assert error.context["phase"] == "handle_data"
        assert error.context["user_file"] == __file__
        assert error.context["sim_time"] == "2024-01-02 21:00"
        assert "ZeroDivisionError: division by zero -- raised in handle_data" in str(error)


def test_rustybt_errors_keep_their_type_and_gain_the_location() -> None:
    guard = user_code("before_trading_start", {__file__}, lambda: "then")
    with pytest.raises(OrderError) as raised, guard:
        _user_function(OrderError("bad order"))
    assert raised.value.context["user_file"] == __file__
    assert "(in before_trading_start at" in str(raised.value)
    assert "simulation time then" in str(raised.value)


def test_no_error_passes_through() -> None:
    guard = user_code("handle_data", set(), lambda: None)
    with guard:
        value = 1
    assert value == 1


def test_a_syntax_error_is_one_line_naming_file_and_line() -> None:
    from rustybt.user_code import strategy_functions

    with pytest.raises(StrategyError) as raised:
        strategy_functions("def initialize(context):\n    x = (\n", "algo.py", {}, (None,) * 4)
    message = str(raised.value)
    assert message.startswith("algo.py:2: SyntaxError: ")
    assert "never closed" in message and "\n" not in message
    assert isinstance(raised.value.__cause__, SyntaxError)
    assert raised.value.context == {"user_file": "algo.py", "user_line": 2}


def test_an_error_in_module_level_code_names_file_and_line() -> None:
    from rustybt.user_code import strategy_functions

    script = "x = 1\nimport rustybt_no_such_module\n"
    with pytest.raises(StrategyError) as raised:
        strategy_functions(script, "algo.py", {}, (None,) * 4)
    assert str(raised.value).startswith("algo.py:2: ModuleNotFoundError: No module named")
    assert "(while loading the algorithm)" in str(raised.value)
