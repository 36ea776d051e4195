"""The reference side of bench/quality.sh: the same 1,000,000 labels through
the `krippendorff` package (alpha, nominal) and crowd-kit (MajorityVote,
DawidSkene), timed, with their results for comparison with Gloss's.

Usage: quality_reference.py RATINGS.csv
"""

import sys
import time

import krippendorff
import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene, MajorityVote


def timed(what, run, runs=1):
    """Runs `run` `runs` times; prints the median time (and the fastest)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    times.sort()
    print(f"{what:<32}{times[len(times) // 2]:>10.3f} s ({times[0]:.3f} s, {runs} runs)")
    return result


rows = pd.read_csv(sys.argv[1])
data = rows.rename(columns={"item": "task", "annotator": "worker"})
matrix = timed("reliability matrix (pivot)",
               lambda: rows.pivot(index="annotator", columns="item", values="label").to_numpy(dtype=float))
alpha = timed("krippendorff.alpha nominal",
              lambda: krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"), runs=5)
print(f"  alpha = {alpha:.12f}")
timed("crowd-kit MajorityVote", lambda: MajorityVote().fit_predict(data), runs=3)
ds = DawidSkene(n_iter=100, tol=1e-5)
timed("crowd-kit DawidSkene", lambda: ds.fit(data), runs=3)
print(f"  {len(ds.loss_history_)} iterations, priors {np.round(ds.priors_.to_numpy(), 6).tolist()}")
