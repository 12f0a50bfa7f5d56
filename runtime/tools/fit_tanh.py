#!/usr/bin/env python3
"""Fits the odd rational tanh(x) ~ x P(x^2) / Q(x^2) of runtime/src/tanh.rs.

Standard library only. Rational Remez exchange on [0, CLAMP] for absolute
error (the reference linear systems are solved in 60-digit Decimal; tanh
itself comes from math.tanh, accurate to ~1e-16, far below the 1e-7 being
fitted). Q's leading coefficient is fixed at 1, which saves a multiply.
The coefficients are then rounded to f32, the input clamp is put where the
f32 evaluation peaks, and the f32 evaluation, in the order the Rust code
uses, is checked on a dense grid.

Usage: python3 runtime/tools/fit_tanh.py M N CLAMP
  M = degree of P in x^2, N = degree of Q in x^2.
"""

import math
import struct
import sys
from decimal import Decimal, getcontext

getcontext().prec = 60


def f32(v):
    """Rounds a float to the nearest f32 (exact emulation of one f32 op)."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


def shortest(v):
    """The shortest decimal that reads back as the same f32 (a Rust literal)."""
    for digits in range(1, 10):
        text = f"{v:.{digits}g}"
        if f32(float(text)) == v:
            return text
    return repr(v)


def solve(a, b):
    """Gaussian elimination with partial pivoting, in Decimal."""
    n = len(b)
    a = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(a[r][c]))
        a[c], a[p] = a[p], a[c]
        for r in range(c + 1, n):
            f = a[r][c] / a[c][c]
            for k in range(c, n + 1):
                a[r][k] -= f * a[c][k]
    x = [Decimal(0)] * n
    for r in range(n - 1, -1, -1):
        s = a[r][n] - sum(a[r][k] * x[k] for k in range(r + 1, n))
        x[r] = s / a[r][r]
    return x


def evaluate(p, q, x):
    """x P(x^2) / Q(x^2) in float64 (coefficients lowest power first)."""
    s = x * x
    return x * sum(c * s**i for i, c in enumerate(p)) / sum(c * s**i for i, c in enumerate(q))


def remez(m, n, clamp, iters=60):
    count = m + n + 2
    # Chebyshev-like start in (0, clamp]: the error is odd, so 0 is never a node.
    xs = [clamp * (1 - math.cos(math.pi * (k + 1) / count)) / 2 for k in range(count)]
    q_prev = None
    err = 0.0
    for _ in range(iters):
        for _inner in range(4):
            rows, rhs = [], []
            for i, x in enumerate(xs):
                dx, s = Decimal(x), Decimal(x) * Decimal(x)
                t = Decimal(math.tanh(x))
                qv = Decimal(1) if q_prev is None else Decimal(sum(c * (x * x) ** k for k, c in enumerate(q_prev)))
                sign = 1 if i % 2 == 0 else -1
                # x P(s) - t (q0 + ... + q_{n-1} s^{n-1}) - sign E Qprev = t s^n
                row = [dx * s**k for k in range(m + 1)]
                row += [-t * s**k for k in range(n)]
                row.append(-sign * qv)
                rows.append(row)
                rhs.append(t * s**n)
            sol = solve(rows, rhs)
            p = [float(c) for c in sol[: m + 1]]
            q = [float(c) for c in sol[m + 1 : m + 1 + n]] + [1.0]
            q_prev = q
            err = float(sol[-1])
        # Exchange: the local extrema of the error, one per sign run.
        grid = [clamp * k / 20000 for k in range(1, 20001)]
        e = [evaluate(p, q, x) - math.tanh(x) for x in grid]
        runs = []
        for x, v in zip(grid, e):
            if runs and (runs[-1][1] > 0) == (v > 0):
                if abs(v) > abs(runs[-1][1]):
                    runs[-1] = (x, v)
            else:
                runs.append((x, v))
        while len(runs) > count:
            # Drop the smaller end run.
            if abs(runs[0][1]) < abs(runs[-1][1]):
                runs.pop(0)
            else:
                runs.pop()
        if len(runs) < count:
            break
        xs = [x for x, _ in runs]
    return p, q, err


def f32_eval(p, q, x):
    """The Rust evaluation order, every op rounded to f32."""
    s = f32(x * x)
    num = p[-1]
    for c in reversed(p[:-1]):
        num = f32(f32(num * s) + c)
    den = f32(s + q[-2]) if len(q) > 1 else 1.0
    for c in reversed(q[:-2]):
        den = f32(f32(den * s) + c)
    return f32(f32(x * num) / den)


def next_up(x):
    """The next f32 above a positive f32."""
    return struct.unpack("<f", struct.pack("<I", struct.unpack("<I", struct.pack("<f", x))[0] + 1))[0]


def peak(p, q, clamp):
    """The first f32 where the f32 evaluation peaks below `clamp` (scanning
    from 6.5): clamping the input there keeps the saturated end flat
    instead of dipping with the fit's last ripple."""
    x, best, at = f32(6.5), -1.0, 0.0
    while x <= clamp:
        y = f32_eval(p, q, x)
        if y > best:
            best, at = y, x
        x = next_up(x)
    return at


def main():
    m, n, clamp = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    p, q, err = remez(m, n, clamp)
    p32, q32 = [f32(c) for c in p], [f32(c) for c in q]
    top = peak(p32, q32, f32(clamp))
    worst, at = 0.0, 0.0
    for k in range(0, 200001):
        x = f32(12.0 * k / 200000)
        xc = min(x, top)
        e = abs(f32_eval(p32, q32, xc) - math.tanh(x))
        if e > worst:
            worst, at = e, x
    print(f"P degree {m}, Q degree {n} (in x^2), fitted on [0, {f32(clamp)!r}], input clamp {shortest(top)}")
    print(f"remez levelled error {abs(err):.3e}; f32 max abs error {worst:.3e} at x = {at}")
    print("P (x^0 first):", ", ".join(shortest(c) for c in p32))
    print("Q (x^0 first):", ", ".join(shortest(c) for c in q32))


if __name__ == "__main__":
    main()
