"""Recurrences over whole sequences with hand-written backward passes (fast parallel paths).

Autograd through a Python loop over time records a dozen nodes per token, and for tiny widths
that bookkeeping costs more than the arithmetic. These functions run the loop without autograd,
keep what the backward pass needs, and run back-propagation through time themselves: per token
only the recurrent product and a few element-wise ops remain in the loop; every weight gradient
is one matrix product over all tokens at the end. The forward arithmetic is the same as the
units' step paths (same ops in the same order), so the two agree to float precision. (The LSTM
needs none: PyTorch's own fused LSTM kernel is faster on the CPU than a scan written this way.)

- `rnn_scan(gx, w)`: `h_t = tanh(gx_t + h_{t-1} W^T)`;
- `gru_scan(gx, w, b)`: PyTorch's GRU cell (reset, update, candidate) on input gates `gx`;
- `selective_scan(dt, a, du, b, c)`: the SSM state `h_t = exp(dt_t a) * h_{t-1} + du_t b_t^T`
  and its read-out `y_t = h_t c_t`, never storing more than the states themselves.

Shapes: gx [B, T, G*H], w [G*H, H], b [G*H]; outputs [B, T, H]; `selective_scan` takes and
returns time-major tensors [T, ...]. All start from a zero state.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch.autograd import Function
from torch.autograd.function import once_differentiable

NEG = -1e38  # the running maximum exponent of an empty WKV state


def _time_major(x: torch.Tensor) -> torch.Tensor:
    """Return x [B, T, ...] as a contiguous [T, B, ...] tensor."""
    return x.transpose(0, 1).contiguous()


class _RNNScan(Function):
    """Elman tanh recurrence with manual back-propagation through time."""

    @staticmethod
    def forward(ctx: Any, gx: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Run h_t = tanh(gx_t + h_{t-1} W^T) for every t; return H [B, T, H]."""
        x = _time_major(gx)  # [T, B, H]
        t_len, b, h = x.shape
        hs = x.new_zeros(t_len + 1, b, h)  # hs[t + 1] = h_t, hs[0] = 0
        wt = w.t()  # [H, H]
        xt, ht = x.unbind(0), hs.unbind(0)  # per-token views, made in one call
        for t in range(t_len):
            torch.addmm(xt[t], ht[t], wt, out=ht[t + 1]).tanh_()
        ctx.save_for_backward(w, hs)
        return hs[1:].transpose(0, 1)  # [B, T, H]

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """Back-propagate through time: one product with W per token, the rest vectorised."""
        w, hs = ctx.saved_tensors
        g = _time_major(grad)  # [T, B, H]
        t_len, b, h = g.shape
        slope = 1 - hs[1:] * hs[1:]  # [T, B, H] tanh'
        da = torch.empty_like(g)  # [T, B, H] grad of the pre-activation
        carry = g.new_zeros(b, h)  # grad reaching h_t from later tokens
        gt, st, dt = g.unbind(0), slope.unbind(0), da.unbind(0)
        for t in range(t_len - 1, -1, -1):
            torch.mul(torch.add(gt[t], carry), st[t], out=dt[t])
            carry = torch.mm(dt[t], w)  # [B, H]
        flat = da.view(t_len * b, h)  # [T*B, H]
        gw = flat.t() @ hs[:-1].reshape(t_len * b, h)  # [H, H]
        return da.transpose(0, 1), gw


class _GRUScan(Function):
    """PyTorch-convention GRU with manual back-propagation through time."""

    @staticmethod
    def forward(ctx: Any, gx: torch.Tensor, w: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """Run the GRU over input gates gx [B, T, 3H]; return H [B, T, H]."""
        x = _time_major(gx)  # [T, B, 3H]
        t_len, b, h3 = x.shape
        h = h3 // 3
        hs = x.new_zeros(t_len + 1, b, h)  # hs[t + 1] = h_t
        rz = x.new_empty(t_len, b, 2 * h)  # reset and update gates
        gh = x.new_empty(t_len, b, h3)  # recurrent gates (with bias)
        n = x.new_empty(t_len, b, h)  # candidate
        wt = w.t()  # [H, 3H]
        x_rz, x_n = x[..., : 2 * h].unbind(0), x[..., 2 * h :].unbind(0)  # per-token views
        ght, gh_rz, gh_n = gh.unbind(0), gh[..., : 2 * h].unbind(0), gh[..., 2 * h :].unbind(0)
        rzt, r, z = rz.unbind(0), rz[..., :h].unbind(0), rz[..., h:].unbind(0)
        nt, ht = n.unbind(0), hs.unbind(0)
        for t in range(t_len):
            torch.addmm(bias, ht[t], wt, out=ght[t])
            torch.add(x_rz[t], gh_rz[t], out=rzt[t]).sigmoid_()
            torch.addcmul(x_n[t], r[t], gh_n[t], out=nt[t]).tanh_()
            torch.lerp(nt[t], ht[t], z[t], out=ht[t + 1])  # (1 - z) * n + z * h
        ctx.save_for_backward(w, hs, rz, gh, n)
        return hs[1:].transpose(0, 1)  # [B, T, H]

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """Back-propagate through time.

        1. Precompute, for every token, the factors mapping dL/dh_t to the gate gradients.
        2. Walk back in time: dh_t = dL/dh_t + carry; recurrent gate grads = dh_t * factors;
           carry = dh_t * z_t + (recurrent gate grads) W.
        3. Weight and bias gradients are one product and one sum over all tokens.
        """
        w, hs, rz, gh, n = ctx.saved_tensors
        g = _time_major(grad)  # [T, B, H]
        t_len, b, h = g.shape
        r, z, hp = rz[..., :h], rz[..., h:], hs[:-1]  # [T, B, H] each
        a_n = (1 - z) * (1 - n * n)  # dL/d(candidate pre-act) per dh
        a_r = a_n * gh[..., 2 * h :] * r * (1 - r)  # per dh
        a_z = (hp - n) * z * (1 - z)  # per dh
        factors = torch.stack([a_r, a_z, a_n * r], dim=2)  # [T, B, 3, H]
        dgh = torch.empty_like(factors)  # [T, B, 3, H] grads of the recurrent gates
        dh = torch.empty_like(g)  # [T, B, H]
        carry = g.new_zeros(b, h)
        gt, dht, zt, ft = g.unbind(0), dh.unbind(0), z.unbind(0), factors.unbind(0)
        dgt, dgflat = dgh.unbind(0), dgh.view(t_len, b, 3 * h).unbind(0)
        for t in range(t_len - 1, -1, -1):
            d = torch.add(gt[t], carry, out=dht[t])
            torch.mul(ft[t], d[:, None, :], out=dgt[t])
            carry = torch.addmm(d * zt[t], dgflat[t], w)  # [B, H]
        flat = dgh.view(t_len * b, 3 * h)  # [T*B, 3H]
        gw = flat.t() @ hp.reshape(t_len * b, h)  # [3H, H]
        gb = flat.sum(0)  # [3H]
        dgx = dgh.clone()
        dgx[:, :, 2] = dh * a_n  # the input candidate gate is not multiplied by r
        return dgx.view(t_len, b, 3 * h).transpose(0, 1), gw, gb


class _SelectiveScan(Function):
    """The selective SSM recurrence and read-out, fused (time on axis 0)."""

    @staticmethod
    def forward(
        ctx: Any, dt: torch.Tensor, a: torch.Tensor, du: torch.Tensor, b: torch.Tensor,
        c: torch.Tensor,
    ) -> torch.Tensor:  # fmt: skip
        """Return y_t = h_t c_t with h_t = exp(dt_t a) * h_{t-1} + du_t b_t^T, h_{-1} = 0."""
        decay = torch.mul(dt[..., None], a).exp_()  # [T, B, D, N]
        hs = torch.mul(du[..., None], b[:, :, None, :])  # [T, B, D, N] drive, scanned in place
        at, ht = decay.unbind(0), hs.unbind(0)
        for t in range(1, hs.shape[0]):
            ht[t].addcmul_(at[t], ht[t - 1])
        ctx.save_for_backward(dt, a, du, b, c, decay, hs)
        return torch.mul(hs, c[:, :, None, :]).sum(-1)  # [T, B, D]

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, gy: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """Back-propagate through time.

        1. dL/dh_t = gy_t c_t^T + decay_{t+1} * dL/dh_{t+1}, walked back in place.
        2. The read-out and drive gradients are contractions with the states.
        3. The decay gradient dL/dh_t * h_{t-1} * decay_t gives dt's and a's by contraction.
        """
        dt, a, du, b, c, decay, hs = ctx.saved_tensors
        g = torch.mul(gy[..., None], c[:, :, None, :])  # [T, B, D, N]
        gt, at = g.unbind(0), decay.unbind(0)
        for t in range(g.shape[0] - 2, -1, -1):
            gt[t].addcmul_(at[t + 1], gt[t + 1])
        # (batched matrix products of these shapes are slow on the CPU: multiply and sum)
        gc = torch.mul(hs, gy[..., None]).sum(2)  # [T, B, N]
        gdu = torch.mul(g, b[:, :, None, :]).sum(-1)  # [T, B, D]
        gb = torch.mul(g, du[..., None]).sum(2)  # [T, B, N]
        g[1:].mul_(hs[:-1])
        g[0].zero_()
        g.mul_(decay)  # [T, B, D, N] gradient of dt * a
        gdt = torch.mul(g, a).sum(-1)  # [T, B, D]
        ga = g.mul_(dt[..., None]).sum((0, 1))  # [D, N]
        return gdt, ga, gdu, gb, gc


class _WKVScan(Function):
    """RWKV-4's WKV recurrence in its stable (aa, bb, pp) form, with a hand-written backward.

    With den_i = D_i + e^{u + k_i} and c_i = gy_i / den_i, the gradients are
    gv_j = gy_j e^{u+k_j} / den_j + e^{k_j} GP_j, gk_j = gy_j e^{u+k_j} (v_j - y_j) / den_j
    + e^{k_j} (v_j GP_j + GQ_j), gw = sum_j e^{k_j} (v_j GP1_j + GQ1_j) and
    gu = sum_j gy_j e^{u+k_j} (v_j - y_j) / den_j, where GP_j = sum_{i>j} e^{(i-1-j) w} c_i,
    GQ_j the same with -c_i y_i, and GP1, GQ1 the same weighted by the lag i-1-j. The reverse
    loop carries them scaled by a running exponent, as the forward loop carries aa, bb by pp.
    """

    @staticmethod
    def forward(
        ctx: Any, k: torch.Tensor, v: torch.Tensor, w: torch.Tensor, u: torch.Tensor
    ) -> torch.Tensor:
        """Return wkv [B, T, D] for k, v [B, T, D] and w, u [D] from the empty state."""
        kt, vt = _time_major(k), _time_major(v)  # [T, B, D]
        eu = kt + u  # [T, B, D]
        num, den, top = torch.empty_like(kt), torch.empty_like(kt), torch.empty_like(kt)
        aa = torch.zeros_like(kt[0])  # [B, D]
        bb, pp = torch.zeros_like(aa), torch.full_like(aa, NEG)
        kl, vl, el, nl, dl, tl = (x.unbind(0) for x in (kt, vt, eu, num, den, top))
        for t in range(kt.shape[0]):
            p = torch.maximum(pp, el[t], out=tl[t])
            e1, e2 = torch.exp(pp - p), torch.exp(el[t] - p)
            torch.addcmul(e2 * vl[t], e1, aa, out=nl[t])
            torch.addcmul(e2, e1, bb, out=dl[t])
            ww = pp + w
            pp = torch.maximum(ww, kl[t])
            e1, e2 = torch.exp(ww - pp), torch.exp(kl[t] - pp)
            aa = torch.addcmul(e2 * vl[t], e1, aa)
            bb = torch.addcmul(e2, e1, bb)
        y = num.div_(den)  # [T, B, D]
        ctx.save_for_backward(kt, vt, w, u, y, den, top)
        return y.transpose(0, 1)  # [B, T, D]

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """Walk back in time carrying GP, GQ, GP1, GQ1 (scaled); the rest is vectorised."""
        kt, vt, w, u, y, den, top = ctx.saved_tensors
        g = _time_major(grad)  # [T, B, D]
        t_len = g.shape[0]
        coef = g / den  # [T, B, D] gy_i / den_i, scaled by e^{top_i}
        neg_top = -top  # [T, B, D]
        gp, gq, gp1, gq1 = (torch.zeros_like(g) for _ in range(4))  # state for sums over i > j
        scale = torch.full_like(g, NEG)  # [T, B, D] their log-scale
        gpl, gql, gp1l, gq1l, sl = (x.unbind(0) for x in (gp, gq, gp1, gq1, scale))
        cl, nl, yl = coef.unbind(0), neg_top.unbind(0), y.unbind(0)
        for j in range(t_len - 1, 0, -1):
            wo = scale[j] + w
            o = torch.maximum(wo, nl[j], out=sl[j - 1])
            a, b = torch.exp(wo - o), cl[j] * torch.exp(nl[j] - o)
            torch.mul(gp1l[j] + gpl[j], a, out=gp1l[j - 1])
            torch.mul(gq1l[j] + gql[j], a, out=gq1l[j - 1])
            torch.addcmul(b, a, gpl[j], out=gpl[j - 1])
            torch.addcmul(a * gql[j], b, yl[j], value=-1.0, out=gql[j - 1])
        direct = g * torch.exp(kt + u + neg_top) / den  # [T, B, D] gy e^{u+k} / den
        e = torch.exp(kt + scale)  # [T, B, D]
        gv = torch.addcmul(direct, e, gp)
        gk = direct * (vt - y) + e * torch.addcmul(gq, gp, vt)
        gw = (e * torch.addcmul(gq1, gp1, vt)).sum((0, 1))  # [D]
        gu = (direct * (vt - y)).sum((0, 1))  # [D]
        return gk.transpose(0, 1), gv.transpose(0, 1), gw, gu


def wkv_scan(k: torch.Tensor, v: torch.Tensor, w: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Return RWKV-4's wkv [B, T, D] for k, v [B, T, D], decay w < 0 and bonus u [D]."""
    return cast(torch.Tensor, _WKVScan.apply(k, v, w, u))


def rnn_scan(gx: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Return the tanh RNN's hidden states [B, T, H] for input gates gx [B, T, H]."""
    return cast(torch.Tensor, _RNNScan.apply(gx, w))


def gru_scan(gx: torch.Tensor, w: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Return the GRU's hidden states [B, T, H] for input gates gx [B, T, 3H]."""
    if bias is None:
        bias = gx.new_zeros(gx.shape[-1])  # [3H]
    return cast(torch.Tensor, _GRUScan.apply(gx, w, bias))


def selective_scan(
    dt: torch.Tensor, a: torch.Tensor, du: torch.Tensor, b: torch.Tensor, c: torch.Tensor
) -> torch.Tensor:
    """Return the SSM read-out y [T, B, D]: dt, du [T, B, D]; a [D, N]; b, c [T, B, N]."""
    return cast(torch.Tensor, _SelectiveScan.apply(dt, a, du, b, c))
