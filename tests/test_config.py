"""Configuration: context manager scoping, validation, and thread isolation."""

from __future__ import annotations

import threading

import pytest

import shopmetrics as sm


def test_context_restores() -> None:
    before = sm.get_config()
    with sm.config_context(confidence=0.9) as cfg:
        assert cfg.confidence == 0.9
        assert sm.get_config().confidence == 0.9
    assert sm.get_config() == before


def test_bad_values_rejected() -> None:
    with pytest.raises(sm.DefinitionError, match="ci_method"), sm.config_context(ci_method="wald"):
        pass
    with pytest.raises(sm.DefinitionError, match="config field"), sm.config_context(confidense=0.9):
        pass


def test_threads_do_not_see_each_others_config() -> None:
    seen: dict[str, float] = {}
    barrier = threading.Barrier(2)

    def work(name: str, level: float) -> None:
        with sm.config_context(confidence=level):
            barrier.wait()
            seen[name] = sm.get_config().confidence

    threads = [
        threading.Thread(target=work, args=("a", 0.8)),
        threading.Thread(target=work, args=("b", 0.99)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": 0.8, "b": 0.99}
