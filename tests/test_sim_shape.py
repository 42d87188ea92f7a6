"""Every simulation module has one shape: a frozen ``XConfig`` dataclass with a ``seed``, and
``simulate(cfg) -> XResult`` (a dataclass). New modules in labsupport.sim are picked up by themselves."""

import dataclasses
import importlib
import inspect
import pkgutil
import typing

import numpy as np
import pytest

import labsupport.sim
from labsupport.workload import lognormal_tokens, zipf_requests

MODULES = sorted(f"labsupport.sim.{m.name}" for m in pkgutil.iter_modules(labsupport.sim.__path__)) + [
    "labsupport.resilience.herd"]

# Small runs (and the fields a config requires), so the test takes a second; missing: XConfig().
SMALL = {
    "labsupport.sim.lb": dict(tokens=lognormal_tokens(50, seed=1), n_servers=2),
    "labsupport.sim.dns_ttl": dict(n_clients=10, ttl_s=5),
    "labsupport.sim.cache": dict(requests=zipf_requests(200, 50, seed=1), capacity=10),
    "labsupport.sim.staleness": dict(ttl_s=0.5, update_rate_per_s=1.0, read_rate_per_s=5.0, n_keys=2,
                                     duration_s=5),
    "labsupport.sim.prompts": dict(n_requests=50),
    "labsupport.sim.cdn": dict(duration_s=1, n_objects=100),
    "labsupport.resilience.herd": dict(n_clients=50),
}


def _config_class(mod):
    found = [c for name, c in vars(mod).items() if name.endswith("Config") and inspect.isclass(c)
             and c.__module__ == mod.__name__]
    assert len(found) == 1, f"{mod.__name__}: expected one *Config class, found {[c.__name__ for c in found]}"
    return found[0]


def _has_the_shape(mod) -> bool:
    cfg_cls = next((c for n, c in vars(mod).items() if n.endswith("Config") and inspect.isclass(c)), None)
    return cfg_cls is not None and dataclasses.is_dataclass(cfg_cls) and hasattr(mod, "simulate")


@pytest.mark.parametrize("name", MODULES)
def test_module_has_config_simulate_result(name):
    """XConfig: a frozen dataclass with a seed; simulate takes just the config; it returns an XResult
    dataclass, and the same config gives an equal result."""
    mod = importlib.import_module(name)
    if name == "labsupport.resilience.herd" and not _has_the_shape(mod):
        pytest.skip("labsupport.resilience.herd is not converted to the Config/simulate/Result shape yet")
    cfg_cls = _config_class(mod)
    assert dataclasses.is_dataclass(cfg_cls), f"{cfg_cls.__name__} is not a dataclass"
    assert cfg_cls.__dataclass_params__.frozen, f"{cfg_cls.__name__} is not frozen: use dataclasses.replace"
    assert "seed" in {f.name for f in dataclasses.fields(cfg_cls)}, f"{cfg_cls.__name__} has no seed field"

    params = list(inspect.signature(mod.simulate).parameters)
    assert len(params) == 1, f"{name}.simulate takes {params}: everything but the config belongs in the config"
    result_cls = typing.get_type_hints(mod.simulate, vars(mod))["return"]
    assert dataclasses.is_dataclass(result_cls) and result_cls.__name__.endswith("Result"), result_cls

    cfg = cfg_cls(**SMALL.get(name, {}))
    first = mod.simulate(cfg)
    assert isinstance(first, result_cls)
    again = mod.simulate(cfg)
    for f in dataclasses.fields(result_cls):
        assert _same(getattr(first, f.name), getattr(again, f.name)), f"{name}: {f.name} differs between runs"


def _same(a, b) -> bool:
    """Equal, numpy arrays (which do not compare with ==) and NaN included."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (np.ndarray, list, tuple)) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=np.asarray(a).dtype.kind == "f")
    return a == b or (a != a and b != b)


def test_every_module_is_listed_with_a_small_run():
    """A new simulation module gets a small config here (its default run may take far too long)."""
    assert set(MODULES) == set(SMALL), set(MODULES) ^ set(SMALL)
