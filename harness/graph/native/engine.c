/* insitu native step engine: runs one generation step of a lowered micro-graph.
 *
 * A program is a flat array of fixed-width instructions (WIDTH int64 words each: the opcode,
 * then operands). Operands are offsets into one float32 arena that holds the weights, the
 * scratch buffers, the recurrent states and the attention KV caches (harness/graph/native/
 * program.py lays it out); sizes and counts are plain integers. The arithmetic follows the
 * PyTorch step path of each unit (harness/graph/units/) operation by operation, so the two
 * agree to float32 rounding. Batch size is 1: this is the path of one person's chat.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 12

enum {
    OP_EMBED = 1,     /* dst, table, dim, vocab: dst = table[token] (skipped when token < 0) */
    OP_LINEAR = 2,    /* dst, x, wt [nin, nout], bias (-1: none), nin, nout */
    OP_ACT = 3,       /* dst, x, n, kind */
    OP_LAYERNORM = 4, /* dst, x, gain, shift (-1: none), n, eps (arena scalar) */
    OP_RMSNORM = 5,   /* dst, x, gain, n, eps (arena scalar) */
    OP_ADD = 6,       /* dst, a, b, n: dst = a + b */
    OP_SUB = 7,       /* dst, a, b, n: dst = a - b */
    OP_MUL = 8,       /* dst, a, b, n: dst = a * b */
    OP_ADDCMUL = 9,   /* dst, a, b, c, n: dst = a + b * c */
    OP_ADDSCALED = 10,/* dst, a, b, s (arena scalar), n: dst = a + b * s */
    OP_COPY = 11,     /* dst, src, n */
    OP_SHIFTIN = 12,  /* buf, x, total, n: drop the oldest n values of buf, append x */
    OP_GRU = 13,      /* h (in/out), gx, gh, H */
    OP_LSTM = 14,     /* h (in/out), c (in/out), gx, gh, H */
    OP_WKV = 15,      /* dst, k, v, w, u, aa, bb, pp, n */
    OP_SSM = 16,      /* dst, u, dt, bc, a, h, skip, D, N */
    OP_ATTN = 17,     /* dst, qkv, kcache, vcache, heads, head_dim, capacity, rope_base */
    OP_GATE = 18,     /* dst, x0, side, alpha, sel (-1: none), D: dst = x0 + alpha*sel*side */
};

enum { ACT_GELU = 0, ACT_RELU = 1, ACT_SILU = 2, ACT_TANH = 3, ACT_SIGMOID = 4,
       ACT_SOFTPLUS = 5, ACT_SQRELU = 6 };

/* exp for the activations: Cephes' single-precision polynomial (about 1 ulp), written without
 * library calls so that loops over it vectorise. Inputs are clamped to the finite range. */
static inline float fexp(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
    const float big = 12582912.0f; /* 1.5 * 2^23: adding and subtracting it rounds to an integer */
    const float n = (x * 1.44269504088896341f + big) - big;
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float sigmoidf(float x) { return 1.0f / (1.0f + fexp(-x)); }

static inline float ftanh(float x) {
    const float e = fexp(2.0f * (x < 0.0f ? -x : x));
    const float t = 1.0f - 2.0f / (e + 1.0f);
    return x < 0.0f ? -t : t;
}

/* y = W x + b with W stored transposed (wt [nin, nout]): four inputs per pass over y. */
static void linear(float *restrict y, const float *restrict x, const float *restrict wt,
                   const float *restrict b, int64_t nin, int64_t nout) {
    if (b) memcpy(y, b, (size_t)nout * sizeof(float));
    else memset(y, 0, (size_t)nout * sizeof(float));
    int64_t i = 0;
    for (; i + 4 <= nin; i += 4) {
        const float x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
        const float *restrict w0 = wt + i * nout, *restrict w1 = w0 + nout;
        const float *restrict w2 = w1 + nout, *restrict w3 = w2 + nout;
        for (int64_t o = 0; o < nout; o++)
            y[o] += x0 * w0[o] + x1 * w1[o] + x2 * w2[o] + x3 * w3[o];
    }
    for (; i < nin; i++) {
        const float xi = x[i];
        const float *restrict w = wt + i * nout;
        for (int64_t o = 0; o < nout; o++) y[o] += xi * w[o];
    }
}

static void act(float *restrict y, const float *restrict x, int64_t n, int64_t kind) {
    switch (kind) {
    case ACT_GELU:
        for (int64_t i = 0; i < n; i++) {
            const float v = x[i];
            y[i] = 0.5f * v * (1.0f + ftanh(0.7978845608028654f * (v + 0.044715f * v * v * v)));
        }
        break;
    case ACT_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case ACT_SILU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + fexp(-x[i]));
        break;
    case ACT_TANH:
        for (int64_t i = 0; i < n; i++) y[i] = ftanh(x[i]);
        break;
    case ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++) y[i] = sigmoidf(x[i]);
        break;
    case ACT_SOFTPLUS:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 20.0f ? x[i] : log1pf(expf(x[i]));
        break;
    case ACT_SQRELU:
        for (int64_t i = 0; i < n; i++) { const float r = x[i] > 0.0f ? x[i] : 0.0f; y[i] = r * r; }
        break;
    }
}

static void layernorm(float *y, const float *x, const float *g, const float *b, int64_t n,
                      float eps) {
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++) { const double d = x[i] - mean; var += d * d; }
    const float inv = (float)(1.0 / sqrt(var / (double)n + eps));
    const float m = (float)mean;
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) * inv * g[i] + (b ? b[i] : 0.0f);
}

static void rmsnorm(float *y, const float *x, const float *g, int64_t n, float eps) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float inv = (float)(1.0 / sqrt(ss / (double)n + eps));
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * inv * g[i];
}

static void wkv(float *out, const float *k, const float *v, const float *w, const float *u,
                float *aa, float *bb, float *pp, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float ww = u[i] + k[i];
        float p = pp[i] > ww ? pp[i] : ww;
        float e1 = expf(pp[i] - p), e2 = expf(ww - p);
        out[i] = (e2 * v[i] + e1 * aa[i]) / (e2 + e1 * bb[i]);
        ww = pp[i] + w[i];
        p = ww > k[i] ? ww : k[i];
        e1 = expf(ww - p);
        e2 = expf(k[i] - p);
        aa[i] = e2 * v[i] + e1 * aa[i];
        bb[i] = e2 + e1 * bb[i];
        pp[i] = p;
    }
}

static void ssm(float *y, const float *u, const float *dt, const float *bc, const float *a,
                float *h, const float *skip, int64_t d, int64_t n) {
    const float *b = bc, *c = bc + n;
    for (int64_t i = 0; i < d; i++) {
        const float dti = dt[i], drive = dti * u[i];
        float *hi = h + i * n;
        const float *ai = a + i * n;
        float acc = 0.0f;
        for (int64_t j = 0; j < n; j++) {
            hi[j] = fexp(dti * ai[j]) * hi[j] + drive * b[j];
            acc += hi[j] * c[j];
        }
        y[i] = acc + skip[i] * u[i];
    }
}

static void rope(float *x, int64_t hd, int64_t pos, double base) {
    const int64_t half = hd / 2;
    for (int64_t i = 0; i < half; i++) {
        const double ang = (double)pos * pow(base, -(double)(2 * i) / (double)hd);
        const float c = (float)cos(ang), s = (float)sin(ang);
        const float x1 = x[i], x2 = x[i + half];
        x[i] = x1 * c + x2 * -s;
        x[i + half] = x2 * c + x1 * s;
    }
}

static void attention(float *out, float *qkv, float *kc, float *vc, int64_t heads, int64_t hd,
                      int64_t cap, int64_t pos, double base, float *scores) {
    const int64_t inner = heads * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    for (int64_t h = 0; h < heads; h++) {
        float *q = qkv + h * hd, *k = qkv + inner + h * hd, *v = qkv + 2 * inner + h * hd;
        rope(q, hd, pos, base);
        rope(k, hd, pos, base);
        float *kh = kc + h * cap * hd, *vh = vc + h * cap * hd;
        memcpy(kh + pos * hd, k, (size_t)hd * sizeof(float));
        memcpy(vh + pos * hd, v, (size_t)hd * sizeof(float));
        float top = -INFINITY;
        for (int64_t j = 0; j <= pos; j++) {
            const float *kj = kh + j * hd;
            float s = 0.0f;
            for (int64_t e = 0; e < hd; e++) s += q[e] * kj[e];
            scores[j] = s * scale;
            if (scores[j] > top) top = scores[j];
        }
        float total = 0.0f;
        for (int64_t j = 0; j <= pos; j++) { scores[j] = fexp(scores[j] - top); total += scores[j]; }
        float *o = out + h * hd;
        memset(o, 0, (size_t)hd * sizeof(float));
        for (int64_t j = 0; j <= pos; j++) {
            const float p = scores[j] / total;
            const float *vj = vh + j * hd;
            for (int64_t e = 0; e < hd; e++) o[e] += p * vj[e];
        }
    }
}

/* Run one step of the program. token < 0: the input vector was written by the caller.
 * Returns 0, or -1 when pos is past an attention cache's capacity, -2 for a bad token,
 * -3 for an unknown opcode. */
static int64_t run(const int64_t *code, int64_t count, float *m, int64_t token, int64_t pos,
                   float *scores) {
    for (int64_t n = 0; n < count; n++) {
        const int64_t *a = code + n * WIDTH;
        switch (a[0]) {
        case OP_EMBED:
            if (token < 0) break;
            if (token >= a[4]) return -2;
            memcpy(m + a[1], m + a[2] + token * a[3], (size_t)a[3] * sizeof(float));
            break;
        case OP_LINEAR:
            linear(m + a[1], m + a[2], m + a[3], a[4] < 0 ? NULL : m + a[4], a[5], a[6]);
            break;
        case OP_ACT:
            act(m + a[1], m + a[2], a[3], a[4]);
            break;
        case OP_LAYERNORM:
            layernorm(m + a[1], m + a[2], m + a[3], a[4] < 0 ? NULL : m + a[4], a[5], m[a[6]]);
            break;
        case OP_RMSNORM:
            rmsnorm(m + a[1], m + a[2], m + a[3], a[4], m[a[5]]);
            break;
        case OP_ADD: {
            float *d = m + a[1]; const float *x = m + a[2], *y = m + a[3];
            for (int64_t i = 0; i < a[4]; i++) d[i] = x[i] + y[i];
            break;
        }
        case OP_SUB: {
            float *d = m + a[1]; const float *x = m + a[2], *y = m + a[3];
            for (int64_t i = 0; i < a[4]; i++) d[i] = x[i] - y[i];
            break;
        }
        case OP_MUL: {
            float *d = m + a[1]; const float *x = m + a[2], *y = m + a[3];
            for (int64_t i = 0; i < a[4]; i++) d[i] = x[i] * y[i];
            break;
        }
        case OP_ADDCMUL: {
            float *d = m + a[1]; const float *x = m + a[2], *y = m + a[3], *z = m + a[4];
            for (int64_t i = 0; i < a[5]; i++) d[i] = x[i] + y[i] * z[i];
            break;
        }
        case OP_ADDSCALED: {
            float *d = m + a[1]; const float *x = m + a[2], *y = m + a[3]; const float s = m[a[4]];
            for (int64_t i = 0; i < a[5]; i++) d[i] = x[i] + y[i] * s;
            break;
        }
        case OP_COPY:
            memmove(m + a[1], m + a[2], (size_t)a[3] * sizeof(float));
            break;
        case OP_SHIFTIN:
            memmove(m + a[1], m + a[1] + a[4], (size_t)(a[3] - a[4]) * sizeof(float));
            memcpy(m + a[1] + a[3] - a[4], m + a[2], (size_t)a[4] * sizeof(float));
            break;
        case OP_GRU: {
            float *h = m + a[1]; const float *gx = m + a[2], *gh = m + a[3]; const int64_t hs = a[4];
            for (int64_t i = 0; i < hs; i++) {
                const float r = sigmoidf(gx[i] + gh[i]), z = sigmoidf(gx[hs + i] + gh[hs + i]);
                const float c = ftanh(gx[2 * hs + i] + r * gh[2 * hs + i]);
                h[i] = c + z * (h[i] - c);
            }
            break;
        }
        case OP_LSTM: {
            float *h = m + a[1], *c = m + a[2]; const float *gx = m + a[3], *gh = m + a[4];
            const int64_t hs = a[5];
            for (int64_t i = 0; i < hs; i++) {
                const float ig = sigmoidf(gx[i] + gh[i]), fg = sigmoidf(gx[hs + i] + gh[hs + i]);
                const float g = ftanh(gx[2 * hs + i] + gh[2 * hs + i]);
                const float og = sigmoidf(gx[3 * hs + i] + gh[3 * hs + i]);
                c[i] = fg * c[i] + ig * g;
                h[i] = og * ftanh(c[i]);
            }
            break;
        }
        case OP_WKV:
            wkv(m + a[1], m + a[2], m + a[3], m + a[4], m + a[5], m + a[6], m + a[7], m + a[8], a[9]);
            break;
        case OP_SSM:
            ssm(m + a[1], m + a[2], m + a[3], m + a[4], m + a[5], m + a[6], m + a[7], a[8], a[9]);
            break;
        case OP_ATTN:
            if (pos >= a[7]) return -1;
            attention(m + a[1], m + a[2], m + a[3], m + a[4], a[5], a[6], a[7], pos, m[a[8]], scores);
            break;
        case OP_GATE: {
            float *d = m + a[1]; const float *x0 = m + a[2], *s = m + a[3], *al = m + a[4];
            const float *sel = a[5] < 0 ? NULL : m + a[5];
            for (int64_t i = 0; i < a[6]; i++) {
                const float g = sel ? al[i] * sel[i] : al[i];
                d[i] = x0[i] + g * s[i];
            }
            break;
        }
        default:
            return -3;
        }
    }
    return 0;
}

static int desc(const void *x, const void *y) {
    const float a = *(const float *)x, b = *(const float *)y;
    return (a < b) - (a > b);
}

/* Draw a token from logits [V] as harness/graph/generate.py's sampler does: temperature
 * (inv_temp 0 = greedy argmax), top-k, top-p, then inverse-CDF sampling with the uniform u.
 * `work` holds 2*V floats of scratch. */
static int64_t sample(const float *logits, int64_t v, double inv_temp, int64_t top_k,
                      double top_p, double u, float *work) {
    if (inv_temp == 0.0) {
        int64_t best = 0;
        for (int64_t i = 1; i < v; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
    float *x = work, *sorted = work + v;
    const float it = (float)inv_temp;
    for (int64_t i = 0; i < v; i++) x[i] = inv_temp != 1.0 ? logits[i] * it : logits[i];
    if ((top_k > 0 && top_k < v) || top_p < 1.0) {
        memcpy(sorted, x, (size_t)v * sizeof(float));
        qsort(sorted, (size_t)v, sizeof(float), desc);
        if (top_k > 0 && top_k < v) {
            const float cut = sorted[top_k - 1];
            for (int64_t i = 0; i < v; i++) if (x[i] < cut) x[i] = -INFINITY;
            for (int64_t i = top_k; i < v; i++) if (sorted[i] < cut) sorted[i] = -INFINITY;
        }
        if (top_p < 1.0) {
            const float top = sorted[0];
            float total = 0.0f;
            for (int64_t i = 0; i < v; i++) total += expf(sorted[i] - top);
            float cum = 0.0f;
            int64_t keep = v;
            for (int64_t i = 0; i < v; i++) {
                if (cum > top_p) { keep = i; break; } /* torch drops where cumsum - p > top_p */
                cum += expf(sorted[i] - top) / total;
            }
            const float floor = sorted[keep - 1];
            for (int64_t i = 0; i < v; i++) if (x[i] < floor) x[i] = -INFINITY;
        }
    }
    float top = -INFINITY;
    for (int64_t i = 0; i < v; i++) if (x[i] > top) top = x[i];
    float total = 0.0f;
    for (int64_t i = 0; i < v; i++) {
        x[i] = x[i] == -INFINITY ? 0.0f : fexp(x[i] - top);
        total += x[i];
    }
    float cum = 0.0f;
    for (int64_t i = 0; i < v; i++) { cum += x[i] / total; x[i] = cum; }
    const float target = (float)u * x[v - 1];
    for (int64_t i = 0; i < v; i++) if (x[i] > target) return i;
    return v - 1;
}

/* One generation in progress: the program, its arena and scratch, the position, the sampling
 * settings. Mirrored by harness/graph/native/stepper.py (Context). */
typedef struct {
    const int64_t *code;
    int64_t count;
    float *arena;
    float *scores;
    float *work;
    int64_t pos;
    int64_t logits;
    int64_t vocab;
    double inv_temp;
    int64_t top_k;
    double top_p;
} insitu_ctx;

/* Advance by one token (token < 0: the caller wrote the input vector); 0 or an error code. */
int64_t insitu_feed(insitu_ctx *c, int64_t token) {
    const int64_t rc = run(c->code, c->count, c->arena, token, c->pos, c->scores);
    if (rc == 0) c->pos++;
    return rc;
}

/* Draw the next token from the latest logits with the uniform draw u. */
int64_t insitu_draw(insitu_ctx *c, double u) {
    return sample(c->arena + c->logits, c->vocab, c->inv_temp, c->top_k, c->top_p, u, c->work);
}

/* Feed a token, then draw the next one: the whole per-token work of generation in one call.
 * Returns the drawn token, or a negative error code from the step. */
int64_t insitu_next(insitu_ctx *c, int64_t token, double u) {
    const int64_t rc = insitu_feed(c, token);
    return rc ? rc : insitu_draw(c, u);
}
