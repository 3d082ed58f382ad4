import pytest

from kubeclient import quantity


def test_quantities():
    assert quantity.millicores("500m") == 500 and quantity.millicores("2") == 2000
    assert quantity.whole_units("64Mi") == 64 * 2**20 and quantity.whole_units("1G") == 10**9
    assert quantity.divide_ceil("1", "1m") == 1000


def test_scheduler_units_round_up():
    assert quantity.to_units("cpu", "0.1m") == 1 and quantity.to_units("cpu", 2) == 2000
    assert quantity.to_units("memory", "1Ki") == 1024 and quantity.to_units("pods", "110") == 110
    assert quantity.parse_quantity("1e3") == 1000 and quantity.divide_ceil("1", "0") == 0


def test_malformed_quantity_is_a_value_error():
    with pytest.raises(ValueError):
        quantity.parse_quantity("1e")
