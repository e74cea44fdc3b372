"""LSTM and GRU cells' gate math compiled by numba: one pass per time step instead of ~15 NumPy
calls.

Imported only through :func:`neuralab.compiled.load`, so neuralab never needs numba; used for
float32 only (:mod:`neuralab.ops.recurrent` keeps NumPy's path for other dtypes).

numba's ``math.tanh`` is libm's scalar function, several times slower than NumPy's vectorised
one, so tanh here is a rational function that the compiler vectorises: tanh(x) = x·P(s)/Q(s),
s = (x/9.1)², P and Q of degree 5, evaluated in float64 and clamped at ±9.1 (beyond it float32's
tanh is ±1). The coefficients were fitted by iteratively reweighted least squares on Chebyshev
nodes; the relative error is below 5e-11 on [0, 9.1], so the float32 result is the correctly
rounded tanh, or its neighbour (``tests/test_compiled.py`` checks both claims).
"""

import numba
import numpy as np

_CLAMP = 9.1
_INV_CLAMP2 = 1.0 / (_CLAMP * _CLAMP)
_P0, _P1, _P2, _P3, _P4, _P5 = (
    0.9999999999596911, 11.67315031749261, 30.324366905293914,
    23.94914550329455, 5.200969551556918, 0.1416805123503453,
)  # fmt: skip
_Q1, _Q2, _Q3, _Q4, _Q5 = (
    39.27648361399363, 200.15342845515158, 283.9848378425063,
    122.00907883904712, 11.408934016438735,
)  # fmt: skip

# Contracting to fused multiply-adds and reciprocals is fine; 'nnan'/'ninf' are left out so a
# NaN or an infinity that reaches the cell still propagates (divergence must stay visible).
_FAST = {"contract", "arcp", "nsz"}


@numba.njit(inline="always", fastmath=_FAST, error_model="numpy")
def tanh(x: float) -> float:
    """tanh of a float64 by the rational approximation (NaN stays NaN, ±inf gives ±1)."""
    x = min(max(x, -_CLAMP), _CLAMP)
    s = x * x * _INV_CLAMP2
    num = ((((_P5 * s + _P4) * s + _P3) * s + _P2) * s + _P1) * s + _P0
    den = ((((_Q5 * s + _Q4) * s + _Q3) * s + _Q2) * s + _Q1) * s + 1.0
    return x * num / den


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy")
def tanh_array(x, out):  # noqa: ANN001, ANN201
    """out = tanh(x) element by element (1-D float32); exposed for the accuracy test."""
    for k in range(x.size):
        out[k] = tanh(np.float64(x[k]))


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy")
def forward_step(xg, hh, bias, scale, shift, c_prev, act, c, tanh_c, h):  # noqa: ANN001, ANN201
    """One step: gates a = act(xg + hh + bias) as (i, f, g, o), c = f·c_prev + i·g, h = o·tanh(c).

    Rows are (B, 4H) or (B, H). ``scale``/``shift`` (4H,) turn tanh into each gate's activation:
    σ(z) = ½·tanh(½z) + ½ for i, f, o (scale ½, shift ½); tanh for g (scale 1, shift 0).
    Writes ``act``, ``c``, ``tanh_c`` (saved for the backward) and ``h``.
    """
    batch, hidden = h.shape
    for r in range(batch):
        xr, hr, ar = xg[r], hh[r], act[r]
        for j in range(4 * hidden):
            k = scale[j]
            ar[j] = k * tanh(k * (np.float64(xr[j]) + hr[j] + bias[j])) + shift[j]
        cr, cp, tr, hrow = c[r], c_prev[r], tanh_c[r], h[r]
        for j in range(hidden):
            cell = ar[hidden + j] * cp[j] + ar[j] * ar[2 * hidden + j]
            cr[j] = cell
            t = np.float32(tanh(np.float64(cell)))
            tr[j] = t
            hrow[j] = ar[3 * hidden + j] * t


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy")
def backward_step(dh, g_out, dc, act, tanh_c, c_prev, gates, dc_prev):  # noqa: ANN001, ANN201
    """One step back: from dL/dh (``dh`` carried + ``g_out`` of this step's output) and dL/dc,
    the pre-activation gradients ``gates`` (B, 4H) and dL/dc of the previous step (``dc_prev``).

    With e = dh + g_out and d = dc + e·o·(1 - tanh²c): di = d·g·σ'(i), df = d·c_prev·σ'(f),
    dg = d·i·(1 - g²), do = e·tanh(c)·σ'(o), dc_prev = d·f, where σ' = a·(1 - a).
    """
    batch, hidden = dh.shape
    for r in range(batch):
        ar, gr, tr, dp = act[r], gates[r], tanh_c[r], dc_prev[r]
        ao, go = ar[3 * hidden :], gr[3 * hidden :]
        dhr, gor, dcr = dh[r], g_out[r], dc[r]
        for j in range(hidden):  # first the output gate and d (kept in dc_prev for now)
            o, t = ao[j], tr[j]
            e = dhr[j] + gor[j]
            dp[j] = dcr[j] + e * o * (1 - t * t)
            go[j] = e * t * o * (1 - o)
        ai, af, ag = ar[:hidden], ar[hidden : 2 * hidden], ar[2 * hidden : 3 * hidden]
        gi, gf, gg = gr[:hidden], gr[hidden : 2 * hidden], gr[2 * hidden : 3 * hidden]
        cp = c_prev[r]
        for j in range(hidden):  # split in two loops: each vectorises, the fused one did not
            d, i, f, g = dp[j], ai[j], af[j], ag[j]
            gi[j] = d * g * i * (1 - i)
            gf[j] = d * cp[j] * f * (1 - f)
            gg[j] = d * i * (1 - g * g)
            dp[j] = d * f


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy")
def gru_forward_step(xg, hh, bias, h_prev, act, hn, h):  # noqa: ANN001, ANN201
    """One GRU step: r, z = σ(xg + hh + bias) over the first 2H columns; hn = (hh + bias) of the
    last H (saved: the reset gate scales it); n = tanh(xg_n + r·hn); h = (h_prev - n)·z + n.
    Writes ``act`` (r, z, n), ``hn`` and ``h``."""
    batch, hidden = h.shape
    for row in range(batch):
        xr, hr, ar, hnr, hp, ho = xg[row], hh[row], act[row], hn[row], h_prev[row], h[row]
        for j in range(2 * hidden):
            ar[j] = 0.5 * tanh(0.5 * (np.float64(xr[j]) + hr[j] + bias[j])) + 0.5
        for j in range(hidden):
            k = 2 * hidden + j
            hidden_n = hr[k] + bias[k]
            hnr[j] = hidden_n
            new = np.float32(tanh(np.float64(xr[k]) + ar[j] * hidden_n))
            ar[k] = new
            ho[j] = (hp[j] - new) * ar[hidden + j] + new


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy")
def gru_backward_step(dh, g_out, act, hn, h_prev, gates_x, gates_h, dh_prev):  # noqa: ANN001, ANN201
    """One GRU step back from dL/dh (``dh`` carried + ``g_out``): the input-side pre-activation
    gradients ``gates_x`` (B, 3H), the hidden-side ones ``gates_h`` (the n gate's scaled by r)
    and the direct part of dL/dh_prev, e·z, into ``dh_prev``."""
    batch, hidden = dh.shape
    for row in range(batch):
        ar, gx, gh, hnr = act[row], gates_x[row], gates_h[row], hn[row]
        dhr, gor, hp, dp = dh[row], g_out[row], h_prev[row], dh_prev[row]
        for j in range(hidden):
            r, z, new = ar[j], ar[hidden + j], ar[2 * hidden + j]
            e = dhr[j] + gor[j]
            g_new = e * (1 - z) * (1 - new * new)
            gx[2 * hidden + j] = g_new
            gh[2 * hidden + j] = g_new * r
            g_r = g_new * hnr[j] * (r * (1 - r))
            g_z = e * (hp[j] - new) * (z * (1 - z))
            gx[j] = g_r
            gh[j] = g_r
            gx[hidden + j] = g_z
            gh[hidden + j] = g_z
            dp[j] = e * z
