"""1-NN Euclidean cross-check of the panel's classification sets.

Standalone, standard library only, not run by CI:

    python3 data/panel/nn_check.py                 # every classify row of panel.csv
    python3 data/panel/nn_check.py coffee trace    # only these rows

For each train/test pair (long layout: id,t,<channels>,label) it classifies
every test series by its nearest training series under Euclidean distance
(summed over channels; ties go to the earlier training series) and prints
the test accuracy next to the published 1-NN ED figure (`nn_ed` in
panel.csv; '-' where there is none). Two variants:

- `znorm`: each series z-normalised per channel (mean 0, population standard
  deviation 1; a constant channel becomes all zeros), as the UCR baselines do;
- `raw`: the values as the file has them.

Unequal-length sets (a series length differs within the pair) are first
resampled by linear interpolation to the shortest length in the pair
(`--length N` to choose another), then z-normalised; the archive's own
baseline for such sets padded the series instead, so that figure is only
roughly comparable.
"""

import argparse
import csv
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load(path):
    """[(channels: list of lists of float, label)] in id order."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    assert head[:2] == ["id", "t"] and head[-1] == "label", head
    series = {}
    for r in rows[1:]:
        i, t = int(r[0]), int(r[1])
        chans, label = series.setdefault(i, ([[] for _ in head[2:-1]], r[-1]))
        assert label == r[-1], f"{path}: id {i} has two labels"
        assert t == len(chans[0]), f"{path}: id {i} t={t} out of order"
        for c, v in zip(chans, r[2:-1]):
            c.append(float(v))
    return [series[i] for i in sorted(series)]


def resample(x, n):
    """Linear interpolation of x onto n equally spaced points."""
    if len(x) == n:
        return list(x)
    if n == 1:
        return [x[0]]
    out = []
    for k in range(n):
        pos = k * (len(x) - 1) / (n - 1)
        j = min(int(pos), len(x) - 2)
        w = pos - j
        out.append((1 - w) * x[j] + w * x[j + 1])
    return out


def znorm(x):
    m = sum(x) / len(x)
    sd = math.sqrt(sum((v - m) ** 2 for v in x) / len(x))
    return [0.0] * len(x) if sd < 1e-12 else [(v - m) / sd for v in x]


def flat(chans):
    return [v for c in chans for v in c]


def accuracy(train, test):
    tr = [(flat(c), y) for c, y in train]
    hits = 0
    for c, y in test:
        q = flat(c)
        best, best_y = math.inf, None
        for x, yx in tr:
            d = 0.0
            for a, b in zip(q, x):
                d += (a - b) * (a - b)
                if d >= best:
                    break
            if d < best:
                best, best_y = d, yx
        hits += best_y == y
    return hits / len(test)


def check(name, train_path, test_path, published, length=None):
    train, test = load(train_path), load(test_path)
    lens = [len(c[0]) for c, _ in train + test]
    unequal = min(lens) != max(lens)
    n = length or (min(lens) if unequal else None)
    note = f"lengths {min(lens)}..{max(lens)}"
    if n:
        train = [([resample(x, n) for x in c], y) for c, y in train]
        test = [([resample(x, n) for x in c], y) for c, y in test]
        note += f", resampled to {n}"
    raw = accuracy(train, test)
    z = accuracy([([znorm(x) for x in c], y) for c, y in train],
                 [([znorm(x) for x in c], y) for c, y in test])
    print(f"{name:24} {len(train):5} {len(test):5}  {z:.4f}  {raw:.4f}  {published or '-':>9}  {note}")
    sys.stdout.flush()
    return z, raw


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="panel.csv rows (default: every classify row)")
    ap.add_argument("--manifest", default=os.path.join(HERE, "panel.csv"))
    ap.add_argument("--length", type=int, help="resample every series to this length")
    a = ap.parse_args()
    base = os.path.dirname(os.path.abspath(a.manifest))
    with open(a.manifest, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["task"] == "classify"]
    if a.names:
        rows = [r for r in rows if r["name"] in a.names]
        missing = set(a.names) - {r["name"] for r in rows}
        if missing:
            sys.exit(f"not classify rows of {a.manifest}: {sorted(missing)}")
    print(f"{'name':24} {'train':>5} {'test':>5}  {'znorm':6}  {'raw':6}  {'published':>9}  notes")
    for r in rows:
        check(r["name"], os.path.join(base, r["file"]), os.path.join(base, r["test_file"]),
              r.get("nn_ed", ""), a.length)


if __name__ == "__main__":
    main()
