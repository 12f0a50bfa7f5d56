"""Labelled anomaly series for `trainer flow --csv` / `trainer eval`: real
series with anomalies injected by a stated, seeded generator.

    python3 data/anomaly/inject.py DAPHNET_CSV

DAPHNET_CSV is `aeon/datasets/data/Daphnet_S06R02E0/S06R02E0.csv` from the
aeon 1.6.0 wheel (extract only that file: `unzip aeon-1.6.0-py3-none-any.whl
'*Daphnet_S06R02E0*'`). The other sources are in data/panel/.

The generator (Python's `random.Random(seed)`, seed per file below) touches
only the last 15 % of the rows (the test part of `trainer flow`'s time
split). It places 8 anomalies at random non-overlapping starts there, two of
each kind, each on every channel at once; `std` is the channel's standard
deviation over the whole untouched series:

* spike: one sample + or - 4 std (sign drawn);
* level shift: 20 samples + 2 std;
* noise burst: 20 samples, each + N(0, (1 std)^2);
* frozen sensor: 30 samples all equal to the sample before the first.

Every touched sample is labelled 1, the rest 0. Values are written with
6 significant digits, `t` as in the source (Daphnet: seconds from its first
timestamp, 3 decimals).
"""

import csv
import random
import statistics
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PANEL = HERE.parent / "panel"
KINDS = ["spike", "level_shift", "noise_burst", "frozen"] * 2
LENGTH = {"spike": 1, "level_shift": 20, "noise_burst": 20, "frozen": 30}


def inject(times, rows, seed):
    """rows: list of per-channel value lists; returns (rows, labels)."""
    rng = random.Random(seed)
    n, channels = len(rows), len(rows[0])
    std = [statistics.pstdev(r[c] for r in rows) for c in range(channels)]
    out = [list(r) for r in rows]
    labels = [0] * n
    start_region = n * 85 // 100 + 2
    taken = []
    for kind in KINDS:
        length = LENGTH[kind]
        while True:
            s = rng.randrange(start_region, n - length)
            if all(s + length + 10 < a or s > b + 10 for a, b in taken):
                break
        taken.append((s, s + length - 1))
        sign = rng.choice([-1.0, 1.0])
        for k in range(s, s + length):
            for c in range(channels):
                if kind == "spike":
                    out[k][c] += sign * 4.0 * std[c]
                elif kind == "level_shift":
                    out[k][c] += 2.0 * std[c]
                elif kind == "noise_burst":
                    out[k][c] += rng.gauss(0.0, std[c])
                else:
                    out[k][c] = out[s - 1][c]
            labels[k] = 1
    return out, labels


def write(name, header, times, rows, labels):
    path = HERE / name
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["t"] + header + ["label"])
        for t, r, l in zip(times, rows, labels):
            w.writerow([t] + [f"{v:.6g}" for v in r] + [l])
    print(f"{name}: {len(rows)} rows, {sum(labels)} labelled 1")


def panel_series(file, seed, name):
    with (PANEL / file).open() as f:
        r = list(csv.reader(f))
    header, body = r[0], r[1:]
    times = [row[0] for row in body]
    rows = [[float(v) for v in row[1:]] for row in body]
    out, labels = inject(times, rows, seed)
    write(name, header[1:], times, out, labels)


def daphnet(path, seed):
    with open(path) as f:
        r = list(csv.reader(f))
    header, body = r[0], r[1:]
    cols = [1, 2, 3]  # the ankle's three accelerations
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    t0 = datetime.strptime(body[0][0], fmt)
    times = [f"{(datetime.strptime(row[0], fmt) - t0).total_seconds():.3f}" for row in body]
    rows = [[float(row[c]) for c in cols] for row in body]
    out, labels = inject(times, rows, seed)
    write("daphnet_s06r02e0_injected.csv", [header[c] for c in cols], times, out, labels)


if __name__ == "__main__":
    panel_series("taylor_seconds.csv", 22001, "taylor_injected.csv")
    daphnet(sys.argv[1], 22003)
