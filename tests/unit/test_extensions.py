"""The -x arguments of the rustybt command, bound as extension_args."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import rustybt
from rustybt.exceptions import ParameterValidationError
from rustybt.extensions import extension_args, set_extension_args


def test_keys_and_dotted_keys_become_attributes() -> None:
    root = SimpleNamespace()
    set_extension_args(["db.port=5432", "mode=a=b"], root)
    assert root.db.port == "5432" and root.mode == "a=b"
    assert rustybt.extension_args is extension_args


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ext.py"], "-x 'ext.py': an extension argument is key=value or key.sub=value; to load"),
        (["1x=2"], "-x '1x=2': an extension argument is key=value"),
        (["a=1", "a.b=2"], "-x a.b=2: 'a' is already a value, not a namespace"),
    ],
)
def test_malformed_arguments_are_refused_naming_them(args: list[str], message: str) -> None:
    with pytest.raises(ParameterValidationError) as raised:
        set_extension_args(args, SimpleNamespace())
    assert str(raised.value).startswith(message)
