"""Judges `gloss agreement` and `gloss aggregate` against the reference
implementations, to 1e-9, on the same files.

Usage: quality_check.py GLOSS_BINARY WORK_DIR

Data: generated tables (several seeds, numeric and string labels, with and
without missing ratings, 2 to 6 annotators) and the real rating tables that
irrCAC ships in irrCAC.datasets. References: krippendorff (alpha, all
levels), statsmodels (Fleiss' kappa), scikit-learn (Cohen's kappa,
unweighted, linear, quadratic), scipy (Kendall's tau-b, Spearman's rho),
crowd-kit (MajorityVote, Wawa, DawidSkene) and irrCAC (Gwet's AC1 and its
percent agreement pa). Run in the venv of
`scripts/python-env.sh quality` (tests/python/requirements-quality.txt).
Prints one line per file and exits 1 on the first disagreement.
"""

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene, MajorityVote, Wawa
from irrCAC import datasets as irr_datasets
from irrCAC.raw import CAC
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

warnings.filterwarnings("ignore")

TOLERANCE = 1e-9
GLOSS = sys.argv[1]
WORK = Path(sys.argv[2])
checks = 0


def gloss(*args):
    out = subprocess.run([GLOSS, *args], capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"gloss {' '.join(args)} failed: {out.stderr}")
    return json.loads(out.stdout)


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def close(name, ours, reference):
    global checks
    checks += 1
    if ours is None or reference is None or not math.isfinite(reference):
        fail(f"{name}: ours {ours}, reference {reference}")
    if abs(ours - reference) > TOLERANCE:
        fail(f"{name}: ours {ours!r}, reference {reference!r} (diff {abs(ours - reference):.3g})")


def equal(name, ours, reference):
    global checks
    checks += 1
    if ours != reference:
        fail(f"{name}: ours {ours!r}, reference {reference!r}")


def read_rows(path):
    """The rows as crowd-kit sees them: item and annotator as text, labels
    numbers where the whole column is numeric (pandas' default)."""
    frame = pd.read_csv(path, dtype={"item": str, "annotator": str})
    return frame.dropna(subset=["label"])


def wide(rows):
    """items × annotators, NaN where missing (irrCAC's layout)."""
    return rows.pivot(index="item", columns="annotator", values="label")


def label_text(label):
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))
    return str(label)


def check_file(name, path, numeric, complete):
    rows = read_rows(path)
    annotators = list(dict.fromkeys(rows["annotator"]))
    table = wide(rows)
    metric = lambda m, *extra: gloss("agreement", "--metric", m, *extra, str(path))["value"]

    # Krippendorff: coders × units, codes for nominal strings.
    labels = sorted(rows["label"].unique())
    codes = {label: i for i, label in enumerate(labels)}
    coded = table.apply(lambda column: column.map(lambda v: codes.get(v, np.nan) if v == v else np.nan))
    reliability = coded.T.to_numpy(dtype=float)
    close(f"{name} krippendorff-nominal", metric("krippendorff-nominal"),
          krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal"))
    if numeric:
        values = table.T.to_numpy(dtype=float)
        for level in ["ordinal", "interval", "ratio"]:
            close(f"{name} krippendorff-{level}", metric(f"krippendorff-{level}"),
                  krippendorff.alpha(reliability_data=values, level_of_measurement=level))

    # Gwet's AC1 and percent agreement (irrCAC's pa).
    gwet = CAC(table, digits=15).gwet()["est"]
    close(f"{name} gwet-ac1", metric("gwet-ac1"), gwet["coefficient_value"])
    close(f"{name} percent", metric("percent"), gwet["pa"])

    if complete:
        counts, _ = aggregate_raters(coded.to_numpy(dtype=float))
        close(f"{name} fleiss", metric("fleiss"), fleiss_kappa(counts, method="fleiss"))

    # Pairwise metrics on the first two annotators.
    a, b = annotators[:2]
    pair = table[[a, b]].dropna()
    for weights in ["none", "linear", "quadratic"]:
        reference = cohen_kappa_score(pair[a].tolist(), pair[b].tolist(),
                                      weights=None if weights == "none" else weights)
        close(f"{name} cohen {weights}",
              metric("cohen", "--weights", weights, "--annotators", f"{a},{b}"), reference)
    if numeric:
        x, y = pair[a].to_numpy(dtype=float), pair[b].to_numpy(dtype=float)
        close(f"{name} kendall", metric("kendall", "--annotators", f"{a},{b}"),
              stats.kendalltau(x, y).statistic)
        close(f"{name} spearman", metric("spearman", "--annotators", f"{a},{b}"),
              stats.spearmanr(x, y).statistic)

    iterations = check_aggregation(name, path, rows)
    print(f"{name}: {len(rows)} ratings, {len(annotators)} annotators, {len(labels)} labels, "
          f"Dawid-Skene in {iterations} iterations: agree")


def check_aggregation(name, path, rows):
    data = rows.rename(columns={"item": "task", "annotator": "worker"})[["task", "worker", "label"]]
    # Wawa's own predict trips over scikit-learn 1.9's check_is_fitted, so
    # its two steps are run as Wawa.predict runs them.
    wawa_skills = Wawa().fit(data).skills_
    for method, reference in [
        ("majority", MajorityVote().fit_predict(data)),
        ("weighted", MajorityVote().fit_predict(data, skills=wawa_skills)),
    ]:
        ours = gloss("aggregate", "--method", method, str(path))
        by_item = {r["item"]: r["label"] for r in ours["results"]}
        equal(f"{name} {method} labels",
              {task: by_item[task] for task in reference.index},
              {task: label_text(label) for task, label in reference.items()})
        if method == "majority":
            probas = MajorityVote().fit_predict_proba(data)
            worst = max(abs(r["probabilities"][label_text(l)] - probas.loc[r["item"], l])
                        for r in ours["results"] for l in probas.columns)
            close(f"{name} majority shares (largest difference)", worst, 0.0)

    ds = DawidSkene(n_iter=100, tol=1e-5)
    reference = ds.fit_predict(data)
    ours = gloss("aggregate", "--method", "dawid-skene", str(path))
    by_item = {r["item"]: r for r in ours["results"]}
    equal(f"{name} dawid-skene labels",
          {task: by_item[task]["label"] for task in reference.index},
          {task: label_text(label) for task, label in reference.items()})
    equal(f"{name} dawid-skene iterations", ours["iterations"], len(ds.loss_history_))
    worst = max(abs(by_item[task]["probabilities"][label_text(l)] - ds.probas_.loc[task, l])
                for task in ds.probas_.index for l in ds.probas_.columns)
    close(f"{name} dawid-skene posteriors (largest difference)", worst, 0.0)
    worst = max(abs(ours["priors"][label_text(l)] - p) for l, p in ds.priors_.items())
    close(f"{name} dawid-skene priors (largest difference)", worst, 0.0)

    # Stopped by the iteration limit rather than by the tolerance.
    capped = DawidSkene(n_iter=2, tol=0.0)
    capped.fit(data)
    short = gloss("aggregate", "--method", "dawid-skene", "--max-iterations", "2", "--tolerance", "0",
                  str(path))
    equal(f"{name} dawid-skene capped iterations", short["iterations"], len(capped.loss_history_))
    short_by_item = {r["item"]: r for r in short["results"]}
    worst = max(abs(short_by_item[task]["probabilities"][label_text(l)] - capped.probas_.loc[task, l])
                for task in capped.probas_.index for l in capped.probas_.columns)
    close(f"{name} dawid-skene capped posteriors (largest difference)", worst, 0.0)
    return ours["iterations"]


def generate(seed, items, annotators, classes, missing, strings):
    """Items with a true class; each annotator right with their own
    probability, else a uniform class; `missing` of the ratings dropped (every
    item keeps two)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, items)
    skill = rng.uniform(0.3, 0.95, annotators)
    names = ["cat", "dog", "bird", "fish", "horse", "mouse"]
    rows = []
    for i in range(items):
        keep = rng.random(annotators) >= missing
        keep[rng.choice(annotators, 2, replace=False)] = True
        for a in range(annotators):
            if not keep[a]:
                continue
            label = truth[i] if rng.random() < skill[a] else rng.integers(0, classes)
            rows.append((f"t{i}", f"w{a}", names[label] if strings else str(label + 1)))
    return rows


def write_csv(path, rows):
    with open(path, "w") as out:
        out.write("item,annotator,label\n")
        for row in rows:
            out.write(",".join(row) + "\n")


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    cases = [
        # seed, items, annotators, classes, missing, strings
        (1, 60, 2, 2, 0.0, False),
        (2, 120, 3, 4, 0.0, False),
        (3, 150, 5, 5, 0.3, False),
        (4, 80, 4, 3, 0.0, True),
        (5, 200, 6, 6, 0.4, True),
        (6, 90, 3, 5, 0.2, False),
        (7, 40, 2, 3, 0.0, True),
    ]
    for seed, items, annotators, classes, missing, strings in cases:
        path = WORK / f"generated-{seed}.csv"
        write_csv(path, generate(seed, items, annotators, classes, missing, strings))
        check_file(path.stem, path, numeric=not strings, complete=missing == 0.0)

    # Real data shipped by irrCAC.
    for name in ["raw_4raters", "raw_5observers", "raw_ben_gerry", "raw_g1g2", "raw_gender"]:
        frame = getattr(irr_datasets, name)().reset_index(drop=True)
        rows = []
        for unit, record in frame.iterrows():
            for rater, value in record.items():
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                rows.append((f"u{unit}", str(rater), label_text(value)))
        path = WORK / f"{name}.csv"
        write_csv(path, rows)
        numeric = all(r[2].lstrip("-").isdigit() for r in rows)
        complete = not frame.isna().any().any()
        check_file(name, path, numeric=numeric, complete=complete)

    print(f"quality_check: {checks} checks agree with the references to {TOLERANCE}")


main()
