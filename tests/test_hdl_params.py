"""``apsq_rae.hdl.params.as_params``: the one check of a component's ``params`` argument."""

import pytest

from apsq_rae.hdl.params import RAEParams, as_params


def test_defaults_keywords_and_instance():
    assert as_params() == as_params(None) == RAEParams()
    assert as_params(lanes=2, depth=3) == RAEParams(lanes=2, depth=3)
    p = RAEParams(max_group_size=2)
    assert as_params(p) is p


@pytest.mark.parametrize("args,kwargs,error,message", [
    ((RAEParams(),), dict(lanes=2), TypeError,
     r"pass either an RAEParams or keyword parameters, not both"),
    (({"lanes": 2},), {}, TypeError, r"params must be an RAEParams, not \{'lanes': 2\}"),
    ((4,), {}, TypeError, r"params must be an RAEParams, not 4"),
    ((), dict(lanes=0), ValueError, r"lanes = 0 is out of range \(legal: >= 1\)"),
    ((), dict(width=3), TypeError, r"unexpected keyword argument 'width'"),
], ids=["both", "dict", "int", "out-of-range", "unknown-keyword"])
def test_refused(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        as_params(*args, **kwargs)
