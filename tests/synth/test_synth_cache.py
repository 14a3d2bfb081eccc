"""leokit.synth.cache.up_to_date and `python -m leokit generate --reuse`: a generated folder is reused only while
its truth.json records this generator version, the same seed, scale, cohorts and truth."""

from __future__ import annotations

import json

from leokit.synth import truth as T
from leokit.synth.cache import up_to_date
from leokit.synth.params import GENERATOR_VERSION


def _folder(tmp_path, **meta_over):
    meta = {"seed": 3, "scale": 100, "cohorts": 12, "generator_version": GENERATOR_VERSION, **meta_over}
    doc = T.truth_document(T.merge_truth(None), meta, {})
    (tmp_path / "truth.json").write_text(json.dumps(doc))
    return tmp_path


def test_up_to_date_only_when_everything_matches(tmp_path):
    d = _folder(tmp_path)
    assert up_to_date(d, seed=3, scale=100, cohorts=12)[0]
    for kw, what in ((dict(seed=4, scale=100, cohorts=12), "seed"), (dict(seed=3, scale=200, cohorts=12), "scale"),
                     (dict(seed=3, scale=100, cohorts=11), "cohorts")):
        ok, why = up_to_date(d, **kw)
        assert not ok and what in why
    ok, why = up_to_date(d, seed=3, scale=100, cohorts=12, truth={"school_peer_effect": 0.3})
    assert not ok and "school_peer_effect" in why
    assert not up_to_date(_folder(tmp_path, generator_version="0.0.1"), seed=3, scale=100, cohorts=12)[0]
    assert not up_to_date(tmp_path / "missing", seed=3, scale=100, cohorts=12)[0]


def test_a_changed_default_truth_is_stale(tmp_path, monkeypatch):
    d = _folder(tmp_path)
    key = "contextual_offer_high_tariff_entry_effect"
    monkeypatch.setitem(T.DEFAULTS, key, (T.DEFAULTS[key][0] / 2, T.DEFAULTS[key][1]))
    ok, why = up_to_date(d, seed=3, scale=100, cohorts=12)
    assert not ok and key in why


def test_cli_reuse_skips_an_up_to_date_folder(tmp_path, capsys):
    from leokit.__main__ import main

    d = _folder(tmp_path)
    assert main(["generate", "--out", str(d), "--seed", "3", "--scale", "100", "--cohorts", "12", "--reuse"]) == 0
    assert "not regenerated" in capsys.readouterr().out
