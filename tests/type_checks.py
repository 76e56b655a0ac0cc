"""jsii's argument checks in the test processes, each answer that a value's class alone decides given once.

Every call into aws-cdk checks each argument with typeguard 2 (``jsii._type_checking.check_type``): about
300,000 checks in the heavier half of the suite, and a check of a value against a union tries each member
in turn and formats a ``TypeError`` for each one that does not match. Most checks repeat one of a few
thousand (class of the value, expected type) pairs whose answer the class alone decides: a plain class
(``isinstance``), a jsii interface (typeguard accepts anything for a protocol that is not runtime-checkable),
or a union that such a member accepts the value's class under. Those pairs, once passed, pass again without
typeguard; every other check (a sequence's items, a mapping's values, a tuple, a value that fails) runs
typeguard as before, so a test sees the same passes and the same ``TypeError`` either way.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

Check = Callable[..., Any]
#: typing.Union[X, Y] (as jsii's generated code writes unions) and X | Y.
UNIONS = (typing.Union, types.UnionType)


def class_decides(expected_type: Any) -> bool:
    """Whether typeguard 2's answer for a value against ``expected_type`` depends on the value's class alone."""
    if expected_type is Any:
        return True
    origin = typing.get_origin(expected_type)
    if origin in UNIONS:
        return all(class_decides(member) for member in typing.get_args(expected_type))
    if origin is not None or not isinstance(expected_type, type):
        return False  # a generic (its items decide), a forward reference, a type variable
    if getattr(expected_type, "_is_protocol", False):
        return not getattr(expected_type, "_is_runtime_protocol", False)  # runtime: the attributes decide
    return not (issubclass(expected_type, tuple) or typing.is_typeddict(expected_type))


def remembering(check: Check) -> Check:
    """``check`` (jsii's typeguard check), skipped for a (class of the value, expected type) pair that passed
    before and whose answer the class alone decides."""
    passed: dict[tuple[type, int], Any] = {}  # the expected type is kept, so that its id stays its own
    # Not kept: should an id come back for another type, that type is only checked each time (never skipped).
    undecided: set[tuple[type, int]] = set()

    def by_class(value: Any, expected_type: Any) -> bool:
        """Whether every value of ``value``'s class passes ``expected_type``, which ``value`` just passed."""
        if class_decides(expected_type):
            return True
        if typing.get_origin(expected_type) not in UNIONS:
            return False
        for member in typing.get_args(expected_type):
            if class_decides(member):
                try:
                    check(argname="argument", value=value, expected_type=member)
                except TypeError:
                    continue
                return True
        return False

    def remembered(argname: str, value: Any, expected_type: Any) -> Any:
        key = (type(value), id(expected_type))
        if key in passed:
            return None
        result = check(argname=argname, value=value, expected_type=expected_type)
        if key not in undecided:
            if by_class(value, expected_type):
                passed[key] = expected_type
            else:
                undecided.add(key)
        return result

    remembered.remembers = passed  # type: ignore[attr-defined]  (marks a check already remembering)
    return remembered


def remember_jsii_type_checks() -> None:
    """jsii's check, remembering what the class decides (once per process; jsii resolves its check lazily).
    Only over typeguard 2, whose answers ``class_decides`` describes (jsii 1.142 pins 2.13.3); a later
    typeguard checks protocols member by member, so its checks are left as they come."""
    import importlib.metadata

    import jsii._type_checking as type_checking

    if not importlib.metadata.version("typeguard").startswith("2."):
        return
    current = type_checking._resolved_check or type_checking._resolve_check()
    if not hasattr(current, "remembers"):
        type_checking._resolved_check = remembering(current)
