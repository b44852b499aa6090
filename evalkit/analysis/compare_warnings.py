"""What makes two runs not comparable like with like, or a comparison too thin to trust: the
warnings ``evalkit compare`` prints above its figures."""

from __future__ import annotations

import numpy as np

from evalkit.analysis.caserates import IntArray
from evalkit.analysis.comparison import MetricComparison
from evalkit.analysis.runtable import RunData
from evalkit.analysis.stats import paired
from evalkit.storage.store import StoredRun


def run_warnings(base: StoredRun, head: StoredRun) -> list[str]:
    """What makes the two runs not comparable like with like."""
    out: list[str] = []
    bm, hm = base.manifest, head.manifest
    rejudge = f"re-judge the base with `evalkit judge {base.run_id}` to compare like with like"
    if base.path.resolve() == head.path.resolve():
        out.append("base and head are the same run")
    if bm.get("suite") != hm.get("suite"):
        out.append(f"different suites: base {bm.get('suite')!r}, head {hm.get('suite')!r}")
    bj, hj = bm.get("judge_versions") or {}, hm.get("judge_versions") or {}
    for name in sorted(set(bj) & set(hj)):
        if bj[name] != hj[name]:
            out.append(
                f"judge {name!r} has different versions (base {bj[name]}, head "
                f"{hj[name]}): its verdicts are not comparable; {rejudge}"
            )
    for name in sorted(set(bj) ^ set(hj)):
        side = "base" if name in bj else "head"
        out.append(f"judge {name!r} judged only the {side} run")
    if bm.get("golden_sha") != hm.get("golden_sha"):
        out.append(
            f"golden sets differ (base {bm.get('golden_sha')}, head "
            f"{hm.get('golden_sha')}): expected answers may have changed under the same "
            f"case ids; {rejudge}"
        )
    return out


def data_warnings(
    bd: RunData,
    hd: RunData,
    matched: tuple[IntArray, IntArray],
    overall: MetricComparison,
    n_clusters: int | None,
) -> list[str]:
    """What makes the comparison too thin to trust: few shared cases, a judge that mostly
    errored, too few clusters. ``matched``: the shared cases' indices in base and in head."""
    out: list[str] = []
    k, nb, nh = len(matched[0]), len(bd.case_ids), len(hd.case_ids)
    if k == 0:
        return ["no case ids in common: nothing to compare"]
    if 2 * k < max(nb, nh):
        out.append(f"the runs share only {k} cases (base has {nb}, head {nh})")
    if overall.n < paired.MIN_PAIRS:
        out.append(
            f"only {overall.n} paired cases graded in both runs: at least {paired.MIN_PAIRS} "
            "are needed for a verdict (insufficient data)"
        )
    for side, data, idx in (("base", bd, matched[0]), ("head", hd, matched[1])):
        for name, counts in sorted(data.judges.items()):
            missing = int(np.isnan(counts.rates()[idx]).sum())
            if 2 * missing > k:
                out.append(
                    f"judge {name!r} has no verdict on {missing} of {k} shared cases in the "
                    f"{side} run (errors): its comparison rests on the rest"
                )
    if n_clusters is not None and n_clusters < paired.MIN_CLUSTERS:
        out.append(
            f"only {n_clusters} clusters: a cluster-robust test needs at least "
            f"{paired.MIN_CLUSTERS}, so no verdict is given"
        )
    elif n_clusters is not None and n_clusters < paired.FEW_CLUSTERS:
        out.append(
            f"only {n_clusters} clusters: the test uses a small-sample correction (CR2, t with "
            f"{n_clusters - 1} degrees of freedom) but may still be somewhat anti-conservative "
            f"below {paired.FEW_CLUSTERS} clusters"
        )
    return out
