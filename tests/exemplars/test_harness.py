"""The exemplar-test helpers themselves: papermill parameters reach the notebook and the results contract
is checked (a throwaway notebook stands in for an exemplar)."""

from __future__ import annotations

import json

import nbformat
import pytest

from _exemplars import run_exemplar


def _notebook(path, body):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('data_dir = "unset"\nresults_path = "unset"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_run_exemplar_passes_parameters_and_reads_the_contract(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "truth.json").write_text(json.dumps({"school_peer_effect": {"value": 0.15}}))
    nb = _notebook(tmp_path / "nb.ipynb", (
        "from leokit.analyse import Estimate, write_results\n"
        "write_results(results_path, [Estimate('peer', 0.16, 0.01, truth_key='school_peer_effect')], data_dir)\n"))
    res = run_exemplar("nb", tmp_path / "data", tmp_path / "out" / "results.json", notebook=nb)
    assert res.loc["peer", "truth"] == 0.15 and bool(res.loc["peer", "covered"])

    bad = _notebook(tmp_path / "bad.ipynb", "import json\njson.dump([{'name': 'x'}], open(results_path, 'w'))\n")
    with pytest.raises(AssertionError, match="keys"):
        run_exemplar("bad", tmp_path / "data", tmp_path / "bad.json", notebook=bad)
