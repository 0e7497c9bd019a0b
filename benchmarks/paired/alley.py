"""``alley``: a paired green / cherry-blossom street renderer (held-out benchmark renderer).

Every seed builds one street scene in a small 3D world (one-point perspective camera, ray-cast
ground / walls / facades / sky, painter-ordered cars, poles, signs, trunks and tree crowns) and
renders it twice: once with summer foliage, once in cherry blossom.  Everything that is not a
tree crown (or, on some seeds, petals fallen on the ground) is drawn identically into both
canvases, and every post-process (glow, lens distortion, downsampling, painterly filter, grading,
grain) is the same deterministic function of the pixels on both, so the two images differ only
where the season changes something; ``canopy`` is exactly that set of pixels.

Authorial choices (varied by seed): three street layouts (a wide avenue with kerbs and
sidewalks, a narrow Japanese residential lane with garden walls and coloured side strips, a
canal seen from a bridge with quays, railings and roads either side), five lights (morning,
golden hour with long shadows, overcast, dusk with lit windows and warm street lamps,
bright afternoon), wide lenses with barrel distortion or long lenses, trees on one or both
sides or meeting overhead, four crown shapes (rounded, spreading, weeping, columnar), blossom
from near-white to deep pink with some bronze young leaves, and a painterly look on some seeds.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

NAME = "alley"

F32 = np.float32

# ---------------------------------------------------------------------------------------------
# small helpers


def _smooth(e0, e1, x):
    t = np.clip((x - e0) * (1.0 / (e1 - e0)), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _noise(rng, h, w, cell):
    """Smooth value noise in ~[0, 1] of shape (h, w) with features about ``cell`` pixels wide."""
    cell = max(float(cell), 1.0)
    gy = max(2, int(h / cell) + 2)
    gx = max(2, int(w / cell) + 2)
    g = rng.random((gy, gx), dtype=F32)
    if gy >= h and gx >= w:
        return g[:h, :w]
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)


def _fbm(rng, h, w, cell, octaves=3):
    out = np.zeros((h, w), F32)
    amp, tot = 1.0, 0.0
    for _ in range(octaves):
        out += amp * _noise(rng, h, w, cell)
        tot += amp
        amp *= 0.55
        cell *= 0.5
    return out / tot


def _c(rgb):
    return np.asarray(rgb, F32) / 255.0


TOD = {
    "morning": dict(
        elev=(13, 24),
        sun=(1.05, 1.0, 0.9),
        amb=(0.50, 0.56, 0.66),
        top=(96, 150, 214),
        hor=(214, 224, 230),
        haze=(200, 212, 224),
        fog=(140, 260),
    ),
    "golden": dict(
        elev=(4, 10),
        sun=(1.15, 0.80, 0.48),
        amb=(0.40, 0.39, 0.52),
        top=(84, 112, 170),
        hor=(250, 196, 140),
        haze=(232, 190, 150),
        fog=(120, 220),
    ),
    "overcast": dict(
        elev=None,
        sun=(0, 0, 0),
        amb=(0.92, 0.93, 0.95),
        top=(168, 174, 184),
        hor=(214, 216, 219),
        haze=(200, 203, 208),
        fog=(70, 140),
    ),
    "dusk": dict(
        elev=None,
        sun=(0, 0, 0),
        amb=(0.46, 0.47, 0.62),
        top=(28, 42, 92),
        hor=(226, 138, 96),
        haze=(120, 100, 120),
        fog=(90, 170),
    ),
    "afternoon": dict(
        elev=(30, 44),
        sun=(1.0, 0.97, 0.92),
        amb=(0.48, 0.53, 0.64),
        top=(66, 124, 206),
        hor=(186, 208, 230),
        haze=(190, 206, 222),
        fog=(160, 300),
    ),
}

CAR_MUST = [(236, 236, 232), (118, 120, 124), (176, 26, 32), (232, 142, 172), (38, 72, 158)]
CAR_MORE = [
    (222, 226, 224),
    (178, 181, 186),
    (62, 64, 68),
    (24, 24, 28),
    (244, 184, 204),
    (118, 160, 204),
    (26, 36, 74),
    (222, 190, 54),
    (42, 92, 62),
    (202, 186, 150),
    (104, 72, 52),
    (222, 112, 42),
    (150, 30, 60),
    (90, 150, 140),
]

FACADE = [
    (214, 204, 186),
    (190, 172, 150),
    (226, 222, 212),
    (170, 120, 96),
    (150, 154, 160),
    (236, 228, 200),
    (120, 96, 86),
    (200, 206, 212),
    (232, 200, 170),
    (110, 124, 120),
    (198, 160, 120),
    (240, 240, 236),
    (96, 90, 96),
    (210, 186, 150),
]


# ---------------------------------------------------------------------------------------------
# scene


class _Scene:
    def __init__(self, rng: np.random.Generator, S: int):
        self.rng = rng
        self.S = S
        r = rng
        self.kind = str(r.choice(["avenue", "lane", "canal"], p=[0.42, 0.36, 0.22]))
        self.tod = str(r.choice(list(TOD), p=[0.22, 0.24, 0.2, 0.17, 0.17]))
        self.paint = bool(r.random() < 0.25)
        t = TOD[self.tod]
        lens = r.uniform(0.48, 1.05)
        self.f = lens * S
        self.barrel = float(r.uniform(0.06, 0.16)) if lens < 0.68 else float(r.uniform(-0.02, 0.03))
        self.h = r.uniform(1.25, 1.75) if self.kind != "canal" else r.uniform(2.4, 3.6)
        self.v0 = S * r.uniform(0.42, 0.56)
        self.u0 = S * (0.5 + r.uniform(-0.07, 0.07))
        # light
        self.amb = np.asarray(t["amb"], F32) * r.uniform(0.95, 1.05)
        self.sunc = np.asarray(t["sun"], F32)
        if t["elev"] is None:
            el = np.deg2rad(70.0)
            self.has_sun = False
        else:
            el = np.deg2rad(r.uniform(*t["elev"]))
            self.has_sun = True
        az = r.uniform(0.35, 1.0) * np.pi * r.choice([-1, 1])
        if r.random() < 0.35:
            az = r.uniform(0.25, 0.7) * r.choice([-1, 1])  # low sun ahead: backlight
        self.L = np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)], F32)
        self.sky_top = _c(t["top"]) * r.uniform(0.92, 1.06)
        self.sky_hor = _c(t["hor"]) * r.uniform(0.95, 1.04)
        self.haze = _c(t["haze"])
        self.fogd = r.uniform(*t["fog"])
        self.dusk = self.tod == "dusk"
        self._layout()

    # -- layout -----------------------------------------------------------------------------
    def _layout(self):
        r = self.rng
        k = self.kind
        self.crown = str(r.choice(["round", "spread", "weep", "column"], p=[0.3, 0.38, 0.17, 0.15]))
        self.trees = []
        self.cars = []
        self.poles = []
        self.rails = []
        if k == "avenue":
            self.rw = r.uniform(5.5, 9.0)
            sw = r.uniform(2.4, 4.0)
            self.xf = (-(self.rw / 2 + sw), self.rw / 2 + sw)
            self.xb = self.xf
            self.wallh = (0.0, 0.0)
            self.camx = r.uniform(-1.2, 1.2)
            sides = [-1, 1] if r.random() < 0.75 else [int(r.choice([-1, 1]))]
            self.tunnel = bool(r.random() < 0.35 and len(sides) == 2)
            for s in sides:
                x = s * (self.rw / 2 + r.uniform(0.7, 1.2))
                self._row_of_trees(x, s, r.uniform(5.5, 9.0), lean=s * -r.uniform(0.0, 0.8))
            for s in (-1, 1):
                if r.random() < 0.85:
                    self._row_of_cars(s * (self.rw / 2 - 1.05), s)
            for s in (-1, 1):
                self._row_of_poles(s * (self.rw / 2 + 0.35), s, "lamp" if r.random() < 0.6 else "util")
        elif k == "lane":
            self.rw = r.uniform(3.6, 5.2)
            gl, gr = r.uniform(1.5, 4.5), r.uniform(1.5, 4.5)
            self.xf = (-self.rw / 2, self.rw / 2)
            self.xb = (-self.rw / 2 - gl, self.rw / 2 + gr)
            self.wallh = (r.uniform(1.1, 2.1), r.uniform(1.1, 2.1))
            self.camx = r.uniform(-0.6, 0.6)
            self.tunnel = False
            main = int(r.choice([-1, 1]))
            g = gl if main < 0 else gr
            self._row_of_trees(
                main * (self.rw / 2 + min(1.3, g * 0.5)),
                main,
                r.uniform(4.5, 8.0),
                lean=-main * r.uniform(0.6, 1.8),
                jitter=2.5,
            )
            if r.random() < 0.45:
                g2 = gr if main < 0 else gl
                self._row_of_trees(
                    -main * (self.rw / 2 + min(1.3, g2 * 0.5)),
                    -main,
                    r.uniform(9, 16),
                    lean=main * r.uniform(0.3, 1.2),
                    jitter=3.0,
                )
            self._row_of_cars(-main * (self.rw / 2 - 0.95), -main, sparse=True)
            self._row_of_poles(main * (self.rw / 2 - 0.25), main, "util")
        else:  # canal seen from a bridge
            self.cw = r.uniform(6.0, 10.0)
            pw = r.uniform(1.2, 2.5)
            self.rw = r.uniform(4.0, 6.0)
            edge = self.cw / 2 + pw + self.rw
            self.xf = (-edge, edge)
            self.xb = self.xf
            self.wallh = (0.0, 0.0)
            self.pw = pw
            self.camx = r.uniform(-1.0, 1.0)
            self.tunnel = bool(r.random() < 0.5)
            for s in (-1, 1):
                x = s * (self.cw / 2 + r.uniform(0.4, 0.9))
                self._row_of_trees(x, s, r.uniform(5.0, 8.0), lean=-s * r.uniform(1.0, 2.6))
                self.rails.append(s * (self.cw / 2 + 0.05))
                self._row_of_cars(s * (edge - 1.05), s)
                if r.random() < 0.6:
                    self._row_of_poles(s * (edge - 0.2), s, "lamp" if r.random() < 0.5 else "util")
        self._ensure_car_colours()
        self._buildings()
        self._fit_canopy(r.uniform(0.13, 0.45))

    def _crown_cover(self):
        """Rough fraction of the frame the crowns cover (ellipses on a 64 px sketch)."""
        n = 64
        k = n / self.S
        m = np.zeros((n, n), np.uint8)
        for t in self.trees:
            z = t["z"]
            if z < 1.0:
                continue
            u = (self.u0 + self.f * (t["x"] + t["lean"] - self.camx) / z) * k
            v = (self.v0 - self.f * (t["th"] + t["ry"] * 0.85 - self.h) / z) * k
            ax = (self.f * t["rx"] * 0.9 / z * k, self.f * t["ry"] * 0.9 / z * k)
            if u + ax[0] < 0 or u - ax[0] > n or v + ax[1] < 0 or v - ax[1] > n:
                continue
            cv2.ellipse(
                m, (int(u * 4), int(v * 4)), (int(ax[0] * 4) + 1, int(ax[1] * 4) + 1), 0, 0, 360, 1, -1, cv2.LINE_8, 2
            )
        return float(m.mean())

    def _fit_canopy(self, target):
        """Scale the crowns so the canopy lands near a per-scene target fraction of the frame."""
        for _ in range(4):
            est = self._crown_cover() * 2.0  # the sketch misses clump overhang, strands and gaps
            if est <= 0:
                return
            s = float(np.clip((target / est) ** 0.6, 0.6, 1.2))
            if abs(s - 1) < 0.04:
                return
            for t in self.trees:
                t["rx"] *= s
                t["ry"] *= s
                t["rz"] *= s
                t["lean"] *= s

    def _crown(self, s, x, z, lean, tunnel):
        r = self.rng
        shape = self.crown if r.random() < 0.85 else str(r.choice(["round", "spread", "weep", "column"]))
        size = r.uniform(0.55, 0.88)
        if shape == "round":
            rx, ry = r.uniform(1.8, 2.8), r.uniform(1.7, 2.6)
            th = r.uniform(2.0, 3.0)
        elif shape == "spread":
            rx, ry = r.uniform(2.8, 4.2), r.uniform(1.4, 2.2)
            th = r.uniform(2.2, 3.2)
        elif shape == "weep":
            rx, ry = r.uniform(2.0, 3.0), r.uniform(1.6, 2.4)
            th = r.uniform(3.0, 4.2)
        else:
            rx, ry = r.uniform(0.9, 1.4), r.uniform(2.8, 4.2)
            th = r.uniform(1.6, 2.4)
        rx *= size
        ry *= size
        if tunnel:
            rx *= 1.12
            lean *= 1.4
        return dict(
            shape=shape,
            x=x,
            z=z,
            rx=rx,
            ry=ry,
            rz=rx * r.uniform(0.8, 1.1),
            th=th,
            lean=lean,
            seed=int(r.integers(1 << 31)),
            side=s,
            bark=np.array([0.20, 0.16, 0.15], F32) * r.uniform(0.8, 1.25),
        )

    def _row_of_trees(self, x, s, spacing, lean=0.0, jitter=1.0):
        r = self.rng
        z = r.uniform(3.5, 7.0)
        while z < 100:
            xx = x + r.uniform(-0.2, 0.2)
            self.trees.append(self._crown(s, xx, z, lean * r.uniform(0.7, 1.2), self.tunnel))
            z += spacing * r.uniform(1.0 / jitter**0.3, jitter**0.4)
            if r.random() < 0.08:
                z += spacing

    def _row_of_cars(self, x, s, sparse=False):
        r = self.rng
        z = r.uniform(2.5, 9.0)
        while z < 75:
            if r.random() < (0.55 if sparse else 0.82):
                ln = r.uniform(3.6, 4.8)
                kind = str(r.choice(["sedan", "kei", "van"], p=[0.5, 0.3, 0.2]))
                if kind == "kei":
                    ln = r.uniform(3.2, 3.5)
                self.cars.append(
                    dict(
                        x=x + r.uniform(-0.15, 0.15),
                        z=z,
                        len=ln,
                        side=s,
                        kind=kind,
                        col=None,
                        w=r.uniform(1.5, 1.8) if kind != "kei" else 1.45,
                    )
                )
                z += ln + r.uniform(0.8, 3.0)
            else:
                z += r.uniform(4.0, 9.0)

    def _ensure_car_colours(self):
        r = self.rng
        if not self.cars:
            self._row_of_cars(-(self.rw / 2 - 1.0) if self.kind != "canal" else self.xf[0] + 1.05, -1)
        near = sorted(range(len(self.cars)), key=lambda i: self.cars[i]["z"])
        must = list(CAR_MUST)
        r.shuffle(must)
        first = near[: len(must)]
        order = list(first)
        r.shuffle(order)
        for i, ci in enumerate(order):
            self.cars[ci]["col"] = must[i]
        for c in self.cars:
            if c["col"] is None:
                c["col"] = (
                    CAR_MORE[int(r.integers(len(CAR_MORE)))]
                    if r.random() < 0.6
                    else CAR_MUST[int(r.integers(len(CAR_MUST)))]
                )

    def _row_of_poles(self, x, s, kind):
        r = self.rng
        z = r.uniform(4.0, 12.0)
        sp = r.uniform(18, 32)
        while z < 110:
            self.poles.append(dict(x=x, z=z, kind=kind, side=s))
            if r.random() < 0.35:
                self.poles.append(
                    dict(x=x + s * 0.05, z=z + r.uniform(3, 8), kind="sign", side=s, sign=int(r.integers(4)))
                )
            z += sp * r.uniform(0.85, 1.15)

    def _buildings(self):
        r = self.rng
        self.blds = []
        lane = self.kind == "lane"
        for _ in range(2):
            z = -10.0
            bl = []
            while z < 400:
                w = r.uniform(6, 16) if not lane else r.uniform(7, 14)
                fl = int(r.integers(1, 3)) if lane else int(r.integers(2, 7))
                fh = r.uniform(2.7, 3.3)
                gap = r.random() < (0.08 if not lane else 0.15)
                bl.append(
                    dict(
                        z0=z,
                        z1=z + w,
                        h=0.0 if gap else fl * fh + r.uniform(0.3, 1.2),
                        fh=fh,
                        col=_c(FACADE[int(r.integers(len(FACADE)))]) * r.uniform(0.88, 1.08),
                        ww=r.uniform(0.8, 1.6),
                        wh=r.uniform(1.1, 1.6),
                        sp=r.uniform(2.0, 3.4),
                        shop=(not lane) and r.random() < 0.55,
                        glass=r.uniform(0.0, 1.0),
                        awn=_c(
                            [
                                (180, 40, 40),
                                (40, 80, 140),
                                (60, 110, 70),
                                (220, 200, 170),
                                (90, 60, 40),
                                (230, 120, 40),
                            ][int(r.integers(6))]
                        ),
                    )
                )
                z += w
            self.blds.append(bl)
        self.bz = [np.array([b["z0"] for b in bl], F32) for bl in self.blds]
        self.bh = [np.array([b["h"] for b in bl], F32) for bl in self.blds]
        self.bparam = [
            np.array([[b["z0"], b["fh"], b["sp"], b["ww"], b["wh"], b["h"], float(b["shop"])] for b in bl], F32)
            for bl in self.blds
        ]
        self.bcol = [np.stack([b["col"] for b in bl]).astype(F32) for bl in self.blds]
        self.bawn = [np.stack([b["awn"] for b in bl]).astype(F32) for bl in self.blds]
        # garden walls (lane): material per wall
        self.wallmat = [str(r.choice(["block", "stone", "hedge", "plaster"], p=[0.4, 0.2, 0.2, 0.2])) for _ in range(2)]


# ---------------------------------------------------------------------------------------------
# background ray cast (ground, kerbs, water, walls, facades, sky)


def _background(sc: _Scene, shadow):
    """Ray-cast the static world per pixel (at 2x) on flat index sets, one material at a time."""
    r = sc.rng
    S, f, h = sc.S, sc.f, sc.h
    u = (np.arange(S, dtype=F32) + 0.5 - F32(sc.u0)) / F32(f)  # ray dx per column
    v = (F32(sc.v0) - (np.arange(S, dtype=F32) + 0.5)) / F32(f)  # ray dy per row
    tex = sc.tex = _noise(r, 256, 256, 6)
    grain = r.random((256, 256), dtype=F32)
    amb, sun, L = sc.amb, sc.sunc, sc.L
    down = v < -1e-4
    zg_row = np.where(down, h / np.maximum(-v, 1e-4), 1e5).astype(F32)
    Z = np.repeat(zg_row[:, None], S, 1)
    mat = np.repeat(down.astype(np.uint8)[:, None], S, 1)
    c0 = int(np.searchsorted(u, 0.0))
    planes = {}
    for si in (0, 1):
        cs = slice(0, c0) if si == 0 else slice(c0, S)
        uu = u[cs]
        if uu.size == 0:
            continue
        uu = np.where(np.abs(uu) < 1e-5, np.float32(1e-5) * (1 if si else -1), uu)
        for kind in (3, 2):  # back facade first, then the garden wall in front of it
            if kind == 2 and sc.wallh[si] <= 0:
                continue
            xw = sc.xf[si] if kind == 2 else sc.xb[si]
            zw = ((xw - sc.camx) / uu).astype(F32)
            zw = np.where(zw > 0, zw, 1e5).astype(F32)
            if kind == 2:
                hw = np.full(zw.shape, sc.wallh[si], F32)
                gate = (np.floor(zw / 9.0 + si * 0.37) % 3 == 0) & (np.mod(zw, 9.0) < 1.4)
                hw[gate] = 0.0
            else:
                bl = sc.blds[si]
                bi = np.clip(np.searchsorted(sc.bz[si], zw, side="right") - 1, 0, len(bl) - 1)
                hw = sc.bh[si][bi]
            y = h + v[:, None] * zw[None, :]
            Zs = Z[:, cs]
            hit = (y >= 0) & (y < hw[None, :]) & (zw[None, :] < Zs)
            np.copyto(Zs, np.broadcast_to(zw[None, :], Zs.shape), where=hit)
            np.copyto(mat[:, cs], np.uint8(kind + 10 * si), where=hit)
            planes[kind + 10 * si] = (si, cs.start, zw)
    matf = mat.ravel()
    Zf = Z.ravel()
    img = np.empty((S * S, 3), F32)
    sunk = 1.0 if sc.has_sun else 0.0

    def idx(code):
        i = np.flatnonzero(matf == code)
        rr = i // S
        return i, rr, i - rr * S

    def fogit(col, z):
        a = (1 - np.exp(-z / sc.fogd))[:, None]
        return col * (1 - a) + sc.haze * a

    def lwfade(pxm, w):
        return np.clip(pxm * (w * 1.2), 0, 1)

    def tiles(xx, zz, pxm, ts, base, var=0.12, grout=0.025):
        ix = np.floor(xx / ts).astype(np.int32)
        iz = np.floor(zz / ts).astype(np.int32)
        hsh = ((ix * 73856093) ^ (iz * 19349663)) & 1023
        tv = 1 + (hsh.astype(F32) / 1023.0 - 0.5) * (var * 2)
        fx = xx / ts - ix
        fz = zz / ts - iz
        d = np.minimum(np.minimum(fx, 1 - fx), np.minimum(fz, 1 - fz)) * ts
        gr = (d < grout) * lwfade(pxm, grout * 2) * 0.35
        return np.asarray(base, F32)[None, :] * (tv * (1 - gr))[:, None]

    def paint(col, mask, c, strength=1.0):
        m = (mask * strength).astype(F32)
        j = np.flatnonzero(m > 0)
        if j.size:
            col[j] += (np.asarray(c, F32)[None, :] - col[j]) * m[j, None]

    # ---- sky
    i, rr, cc = idx(0)
    if i.size:
        dx, dy = u[cc], v[rr]
        el = np.clip(dy / np.sqrt(1 + dx * dx + dy * dy) * 1.6, 0, 1) ** 0.65
        sky = sc.sky_hor[None, :] * (1 - el[:, None]) + sc.sky_top[None, :] * el[:, None]
        cl = _fbm(r, S, S // 3, S / 12.0, 3)  # clouds stretched sideways
        clv = cl[rr, np.minimum(cc // 3, S // 3 - 1)]
        cover = r.uniform(0.35, 0.75) if sc.tod != "overcast" else 0.2
        cm = _smooth(cover, cover + 0.25, clv) * np.clip(dy * 8, 0, 1) * 0.8
        if sc.tod == "dusk":
            cloudc = np.array([0.75, 0.45, 0.45], F32)
        elif sc.tod == "overcast":
            cloudc = sc.sky_top * 0.92
        else:
            cloudc = sc.sky_hor * 0.4 + 0.6
        sky += (cloudc[None, :] - sky) * cm[:, None]
        if sc.has_sun and L[2] > 0.05:
            us = sc.u0 + f * L[0] / L[2]
            vs = sc.v0 - f * L[1] / L[2]
            d2 = ((cc - us) ** 2 + (rr - vs) ** 2).astype(F32) / (S * S)
            glow = np.exp(-d2 * 9.0) * 0.45 + np.exp(-d2 * 300.0) * 0.8
            sky += glow[:, None] * sun[None, :] * 0.6
        img[i] = sky

    # ---- ground
    shf = shadow.ravel()
    lit_full = np.ones(S * S, F32)
    i, rr, cc = idx(1)
    wat = None
    if i.size:
        dx, dy = u[cc], v[rr]
        zg = zg_row[rr]
        xg = sc.camx + dx * zg
        ax = np.abs(xg)
        pxm = f / zg
        tval = tex[(zg * 14).astype(np.int32) & 255, (ax * 14).astype(np.int32) & 255]
        fine = grain[(zg * 37).astype(np.int32) & 255, (xg * 37 + 1000).astype(np.int32) & 255]
        fade_f = np.clip(pxm / 37.0 - 0.3, 0, 1)
        asph = _c((84, 84, 86)) * r.uniform(0.8, 1.15)
        col = np.empty((i.size, 3), F32)
        col[:] = asph
        shade = 0.9 + 0.14 * tval + (fine - 0.5) * 0.22 * fade_f
        white = _c((220, 220, 214))
        k = sc.kind
        if k == "avenue":
            hw = sc.rw / 2
            pav = _c([(188, 182, 170), (170, 150, 140), (150, 150, 152), (196, 170, 140)][int(r.integers(4))])
            side = ax > hw + 0.15
            col[side] = tiles(xg[side], zg[side], pxm[side], r.uniform(0.3, 0.6), pav)
            paint(col, (ax > hw) & (ax <= hw + 0.15), _c((200, 198, 192)))
            paint(col, (ax > hw - 0.03) & (ax <= hw + 0.02), _c((60, 60, 60)), 0.8)
            cen = (ax < 0.07) & (np.mod(zg, 8.0) < 4.0)
            paint(col, cen, white, lwfade(pxm, 0.14) * 0.9)
            paint(col, (ax > hw - 0.45) & (ax < hw - 0.33), white, lwfade(pxm, 0.12) * 0.85)
            zc = r.uniform(12, 30)
            zeb = (zg > zc) & (zg < zc + 3.5) & (np.mod(xg + 10, 1.0) < 0.5) & (ax < hw - 0.3)
            paint(col, zeb, white, 0.85 * lwfade(pxm, 0.5))
            if r.random() < 0.5:
                sgn = float(2 * r.integers(2) - 1)
                bs = (ax > hw - 1.4) & (ax < hw - 0.55) & (np.mod(zg, 10) < 6) & (xg * sgn > 0)
                paint(col, bs, _c((60, 110, 170)), 0.7)
        elif k == "lane":
            hw = sc.rw / 2
            stc = _c([(70, 140, 90), (190, 170, 130), (160, 70, 60)][int(r.integers(3))])
            for s in (-1, 1):
                if r.random() < 0.7:
                    paint(col, (xg * s > hw - 0.65) & (xg * s < hw), stc, 0.85)
                paint(col, (xg * s > hw - 0.82) & (xg * s < hw - 0.7), white, lwfade(pxm, 0.12) * 0.9)
            paint(col, ax > hw - 0.3, _c((150, 148, 140)), 0.6)
            zt = r.uniform(9, 25)
            paint(col, (zg > zt) & (zg < zt + 0.4) & (ax < hw - 0.9), white, 0.9 * lwfade(pxm, 0.4))
        else:
            cw2 = sc.cw / 2
            pav = _c([(176, 168, 152), (150, 146, 140), (192, 180, 160)][int(r.integers(3))])
            path = (ax > cw2) & (ax < cw2 + sc.pw)
            col[path] = tiles(xg[path], zg[path], pxm[path], r.uniform(0.35, 0.7), pav, 0.15)
            paint(col, (ax > cw2 + sc.pw - 0.06) & (ax < cw2 + sc.pw + 0.08), _c((196, 196, 190)))
            paint(col, (ax > cw2 + sc.pw + 0.4) & (ax < cw2 + sc.pw + 0.52), white, lwfade(pxm, 0.12) * 0.85)
            # rays that cross the quay edge drop to the water plane or hit the quay wall
            wl = r.uniform(1.3, 2.2)
            ins = ax < cw2
            rip_t = _noise(r, 64, 256, 2.0)
            if ins.any():
                dxi, dyi = dx[ins], dy[ins]
                zwat = (h + wl) / np.maximum(-dyi, 1e-4)
                xwat = sc.camx + dxi * zwat
                water = np.abs(xwat) < cw2
                ey = np.clip(-dyi / np.sqrt(1 + dxi * dxi + dyi * dyi) * 1.6, 0, 1) ** 0.65
                refl = sc.sky_hor[None, :] * (1 - ey[:, None]) + sc.sky_top[None, :] * ey[:, None]
                rip = rip_t[(zwat * 1.5).astype(np.int32) & 63, (xwat * 6 + 128).astype(np.int32) & 255]
                wcol = (refl * 0.45 + _c((40, 62, 58)) * 0.55) * (0.85 + 0.3 * rip)[:, None]
                sgn = np.sign(xg[ins])
                zq = (sgn * cw2 - sc.camx) / np.where(np.abs(dxi) > 1e-4, dxi, 1e-4)
                yq = h + dyi * zq
                qcol = tiles(zq, yq * 2.0, f / np.maximum(zq, 0.3), 0.6, _c((132, 126, 116)), 0.18, 0.03)
                qcol *= np.clip((yq + wl) / wl, 0.35, 1.0)[:, None]
                wc = np.where(water[:, None], wcol, qcol)
                wat = (ins, wc, np.where(water, zwat, zq).astype(F32))
        # building shadow across the street
        lit = np.ones(i.size, F32)
        if sc.has_sun:
            s_sun = 1 if L[0] > 0 else -1
            si = 0 if s_sun < 0 else 1
            bh = float(np.mean(sc.bh[si][:20])) * 0.8 + 1.0
            w_sh = bh * abs(L[0]) / max(L[1], 0.05)
            lit = _smooth(w_sh - 0.6, w_sh + 0.6, (sc.xb[si] - xg) * s_sun)
        lit_full[i] = lit
        sh = shf[i]
        diff_g = max(float(L[1]), 0.0) * sunk
        light = amb[None, :] * (1 - 0.3 * sh)[:, None] + sun[None, :] * (diff_g * 1.25 * lit * (1 - sh))[:, None]
        light *= 0.95 if sc.tod != "overcast" else 0.78
        col = col * (shade[:, None] * light)
        zz = zg
        if wat is not None:
            ins, wc, zw_ = wat
            col[ins] = wc * (amb + sun * diff_g * 0.6) * 1.05
            zz = zg.copy()
            zz[ins] = zw_
            ii = i[ins]
            matf[ii] = 4
            Zf[ii] = zw_
        img[i] = fogit(col, zz)
    sc.lit_ground = lit_full.reshape(S, S)
    sc.mat = mat
    sc.Z = Z

    # ---- garden walls and facades
    width_tot = sc.xb[1] - sc.xb[0]
    warm = np.array([1.0, 0.78, 0.45], F32)
    for code, (si, cstart, zwc) in planes.items():
        i, rr, cc = idx(code)
        if not i.size:
            continue
        kind = code % 10
        s = -1 if si == 0 else 1
        zz = zwc[cc - cstart]
        y = h + v[rr] * zz
        pxm = f / zz
        n = np.array([-s, 0, 0], F32)
        diff = max(float(n @ L), 0.0) * sunk
        if sc.has_sun and (1 if L[0] > 0 else -1) != s:
            osi = 1 - si
            bh = float(np.mean(sc.bh[osi][:20])) * 0.8 + 1.0
            yl = bh - width_tot * max(L[1], 0.05) / max(abs(L[0]), 0.05)
            wl_ = _smooth(yl - 0.4, yl + 0.4, y)
        else:
            wl_ = np.ones_like(y)
        if kind == 2:
            wm_ = sc.wallmat[si]
            hw_ = sc.wallh[si]
            if wm_ == "block":
                base = tiles(zz, y * 2.0, pxm, 0.4, _c((170, 170, 164)), 0.08, 0.02)
            elif wm_ == "stone":
                base = tiles(zz + np.floor(y / 0.3) * 0.23, y * 1.5, pxm, 0.45, _c((160, 146, 124)), 0.2, 0.03)
            elif wm_ == "hedge":
                hn = tex[(y * 23).astype(np.int32) & 255, (zz * 23).astype(np.int32) & 255]
                hn2 = grain[(y * 61).astype(np.int32) & 255, (zz * 61).astype(np.int32) & 255]
                base = (
                    _c((52, 86, 44))[None, :] * (0.6 + 0.5 * hn + 0.3 * (hn2 - 0.5) * np.clip(pxm / 61, 0, 1))[:, None]
                )
            else:
                pl = tex[(y * 7).astype(np.int32) & 255, (zz * 7).astype(np.int32) & 255]
                base = _c((212, 204, 190))[None, :] * (0.9 + 0.18 * pl)[:, None]
            base = base * np.where(y > hw_ - 0.08, 1.15, 1.0).astype(F32)[:, None]
            ao = 0.75 + 0.25 * np.clip(y / 0.5, 0, 1)
            lit_w = None
        else:
            bl = sc.blds[si]
            bi = np.clip(np.searchsorted(sc.bz[si], zz, side="right") - 1, 0, len(bl) - 1)
            P = sc.bparam[si][bi]  # columns: z0, fh, sp, ww, wh, h, shop
            z0, fh, sp, ww, wh, bh_, shop = (P[:, j] for j in range(7))
            lz = zz - z0
            pl = tex[(y * 5).astype(np.int32) & 255, (zz * 5).astype(np.int32) & 255]
            base = sc.bcol[si][bi] * (0.88 + 0.22 * pl)[:, None]
            gf = fh
            fy = np.mod(y - gf, fh)
            fz = np.mod(lz - 0.6, sp)
            upper = (y > gf) & (y < bh_ - 0.6)
            fr = 0.07
            inwin = upper & (fy > 0.9) & (fy < 0.9 + wh) & (fz < ww)
            inframe = upper & (fy > 0.9 - fr) & (fy < 0.9 + wh + fr) & (fz < ww + fr)
            cov = lwfade(pxm, 0.1)
            winid = (np.floor((y - gf) / fh) * 31 + np.floor((lz - 0.6) / sp) * 7 + bi * 13).astype(np.int32)
            wv = (((winid * 40503) ^ (winid >> 3)) & 1023).astype(F32) / 1023.0
            glass = (sc.sky_hor * 0.5 + sc.sky_top * 0.2)[None, :] * ((0.45 + 0.5 * wv) * (1 - 0.3 * (fy - 0.9) / 1.6))[
                :, None
            ]
            base *= (1 - 0.35 * cov * inframe)[:, None]
            m = (cov * inwin)[:, None]
            base += (glass - base) * m
            awn = (shop > 0.5) & (y > gf - 0.75) & (y < gf - 0.35)
            acol = sc.bawn[si][bi] * (0.9 + 0.2 * (np.mod(lz, 1.0) < 0.5))[:, None]
            base[awn] = acol[awn]
            sgl = (shop > 0.5) & (y < gf) & (y > 0.3) & (y < gf - 0.8) & (np.mod(lz, 5.0) > 0.4)
            base[sgl] = glass[sgl] * 0.7 + _c((70, 60, 50)) * 0.3
            door = (shop < 0.5) & (y < 2.1) & (np.mod(lz, 9.0) > 2.0) & (np.mod(lz, 9.0) < 3.0)
            base[door] *= 0.45
            base *= (1 - 0.35 * (lz < 0.12) * lwfade(pxm, 0.12))[:, None]
            ao = 0.8 + 0.2 * np.clip(y, 0, 1)
            lit_w = (inwin & (wv > 0.55), cov, sgl)
        light = amb[None, :] * ao[:, None] + sun[None, :] * (diff * 1.1 * wl_ * ao)[:, None]
        col = base * light
        if sc.dusk and lit_w is not None:
            lw, cov, sgl = lit_w
            m = (lw * cov)[:, None]
            col += (warm * 0.95 - col) * m
            col[sgl] = col[sgl] * 0.3 + warm * 0.8
        img[i] = fogit(col, zz)
    return img.reshape(S, S, 3)


# ---------------------------------------------------------------------------------------------
# objects


class _Canvas:
    """The two season canvases (float, 2x resolution); draws non-canopy things into both."""

    def __init__(self, img, sc):
        self.g = img.copy()
        self.b = img  # shared start, separate arrays
        self.sc = sc
        self.S = sc.S

    def P(self, x, y, z):
        sc = self.sc
        z = np.maximum(z, 0.3)
        return sc.u0 + sc.f * (x - sc.camx) / z, sc.v0 - sc.f * (y - sc.h) / z

    def poly(self, pts, col):
        p = np.round(np.asarray(pts, np.float64) * 8).astype(np.int32).reshape(-1, 1, 2)
        c = tuple(float(v) for v in col)
        cv2.fillPoly(self.g, [p], c, cv2.LINE_AA, 3)
        cv2.fillPoly(self.b, [p], c, cv2.LINE_AA, 3)

    def line(self, a, b, col, th):
        c = tuple(float(v) for v in col)
        pa = (int(round(a[0] * 8)), int(round(a[1] * 8)))
        pb = (int(round(b[0] * 8)), int(round(b[1] * 8)))
        t = max(1, int(round(th)))
        cv2.line(self.g, pa, pb, c, t, cv2.LINE_AA, 3)
        cv2.line(self.b, pa, pb, c, t, cv2.LINE_AA, 3)

    def circle(self, cpt, rad, col):
        c = tuple(float(v) for v in col)
        p = (int(round(cpt[0] * 8)), int(round(cpt[1] * 8)))
        r = max(1, int(round(rad * 8)))
        cv2.circle(self.g, p, r, c, -1, cv2.LINE_AA, 3)
        cv2.circle(self.b, p, r, c, -1, cv2.LINE_AA, 3)


def _fogc(sc, col, z):
    a = 1 - np.exp(-z / sc.fogd)
    return np.asarray(col, F32) * (1 - a) + sc.haze * a


def _lightc(sc, alb, n, lit=1.0):
    d = max(float(np.dot(n, sc.L)), 0.0) if sc.has_sun else 0.0
    return np.asarray(alb, F32) * (sc.amb + sc.sunc * d * lit)


def _P(sc, x, y, z):
    z = np.maximum(z, 0.3)
    return sc.u0 + sc.f * (x - sc.camx) / z, sc.v0 - sc.f * (y - sc.h) / z


def _shadow_map(sc):
    """Soft dappled tree shadows and car contact shadows on the ground (same for both seasons)."""
    S = sc.S
    sh = np.zeros((S // 2, S // 2), F32)
    hard = np.zeros((S // 2, S // 2), F32)
    L = sc.L
    if sc.has_sun:
        ox, oz = -L[0] / max(L[1], 0.08), -L[2] / max(L[1], 0.08)
    else:
        ox, oz = 0.0, 0.0
    ang = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    for t in sc.trees:
        cy = t["th"] + t["ry"] * 0.8
        cx, cz = t["x"] + t["lean"] + ox * cy, t["z"] + oz * cy
        rx, rz = t["rx"] * 1.05, t["rz"] * 1.05
        if sc.has_sun:
            rz = rz + abs(oz) * t["ry"] * 0.6
            rx = rx + abs(ox) * t["ry"] * 0.6
        xs = cx + rx * np.cos(ang)
        zs = np.maximum(cz + rz * np.sin(ang), 0.5)
        u, v = _P(sc, xs, 0.0, zs)
        cv2.fillPoly(sh, [np.round(np.stack([u, v], 1) * 4).astype(np.int32)], 1.0, cv2.LINE_AA, 3)
    for c in sc.cars:
        xs = c["x"] + np.array([-1, 1, 1, -1]) * (c["w"] / 2 + 0.1) + ox * 0.3
        zs = np.maximum(c["z"] + np.array([0, 0, 1, 1]) * c["len"] + oz * 0.3, 0.5)
        u, v = _P(sc, xs, 0.0, zs)
        cv2.fillPoly(hard, [np.round(np.stack([u, v], 1) * 4).astype(np.int32)], 1.0, cv2.LINE_AA, 3)
    blur = max(0.7, S / 400.0)
    sh = cv2.GaussianBlur(sh, (0, 0), blur * 1.5)
    dap = _fbm(sc.rng, S // 2, S // 2, S / 110.0, 2)
    strength = 0.7 if sc.has_sun else 0.25
    sh = sh * (0.55 + 0.45 * _smooth(0.3, 0.65, dap)) * strength
    hard = cv2.GaussianBlur(hard, (0, 0), blur * 2.0) * (0.6 if sc.has_sun else 0.5)
    tot = np.clip(sh + hard, 0, 0.8)
    return cv2.resize(tot, (S, S), interpolation=cv2.INTER_LINEAR)


def _car(sc, cv: _Canvas, c):
    x, z0, ln, w = c["x"], c["z"], c["len"], c["w"]
    if z0 < 1.0:
        return
    col = np.asarray(c["col"], F32) / 255.0
    kind = c["kind"]
    cam = np.array([sc.camx, sc.h, 0.0], F32)

    def box(x0, x1, y0, y1, za, zb, alb, glassy=False, inset=0.0):
        corners = {}
        for ix, xx in ((0, x0), (1, x1)):
            for iy, yy in ((0, y0), (1, y1)):
                for iz, zz in ((0, za), (1, zb)):
                    corners[(ix, iy, iz)] = cv.P(xx, yy, zz)
        faces = [  # (normal, corner keys, centre)
            (np.array([0, 0, -1], F32), [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)], (x0 + x1) / 2, (y0 + y1) / 2, za),
            (np.array([-1, 0, 0], F32), [(0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 0)], x0, (y0 + y1) / 2, (za + zb) / 2),
            (np.array([1, 0, 0], F32), [(1, 0, 0), (1, 0, 1), (1, 1, 1), (1, 1, 0)], x1, (y0 + y1) / 2, (za + zb) / 2),
            (np.array([0, 1, 0], F32), [(0, 1, 0), (1, 1, 0), (1, 1, 1), (0, 1, 1)], (x0 + x1) / 2, y1, (za + zb) / 2),
        ]
        for n, keys, fx, fy, fz in faces:
            if np.dot(n, cam - np.array([fx, fy, fz], F32)) <= 0:
                continue
            pts = np.array([corners[k_] for k_ in keys], np.float64)
            base = _lightc(sc, alb, n)
            if n[1] > 0:
                base = base * 0.75 + sc.sky_top * 0.35 * np.asarray(alb).mean() + 0.05
            cv.poly(pts, _fogc(sc, base, fz))
            if glassy:
                cen = pts.mean(0)
                inner = cen + (pts - cen) * (1 - inset)
                gl = sc.sky_top * 0.22 + sc.sky_hor * 0.1 + 0.03
                if n[1] > 0:
                    continue
                cv.poly(inner, _fogc(sc, gl * (0.7 if n[2] < 0 else 0.9), fz))

    x0, x1 = x - w / 2, x + w / 2
    if kind == "van":
        box(x0, x1, 0.25, 0.95, z0, z0 + ln, col)
        box(x0 + 0.05, x1 - 0.05, 0.95, 1.85, z0 + 0.05, z0 + ln - 0.7, col, True, 0.25)
    elif kind == "kei":
        box(x0, x1, 0.22, 0.9, z0, z0 + ln, col)
        box(x0 + 0.06, x1 - 0.06, 0.9, 1.65, z0 + 0.1, z0 + ln - 0.6, col, True, 0.2)
    else:
        box(x0, x1, 0.22, 0.85, z0, z0 + ln, col)
        box(x0 + 0.12, x1 - 0.12, 0.85, 1.4, z0 + 0.8, z0 + ln - 1.0, col, True, 0.18)
    # rear lights and bumper
    for xx in (x0 + 0.12, x1 - 0.22):
        a = cv.P(xx, 0.62, z0)
        b = cv.P(xx + 0.1, 0.78, z0)
        lc = np.array([0.75, 0.08, 0.08], F32) if not sc.dusk else np.array([1.0, 0.25, 0.2], F32)
        cv.poly([a, (b[0], a[1]), b, (a[0], b[1])], _fogc(sc, lc, z0))
    a = cv.P(x0, 0.22, z0)
    b = cv.P(x1, 0.36, z0)
    cv.poly([a, (b[0], a[1]), b, (a[0], b[1])], _fogc(sc, (0.08, 0.08, 0.09), z0))
    # wheels on the side facing the camera
    xs = x0 if sc.camx < x0 else (x1 if sc.camx > x1 else None)
    if xs is not None:
        for zz in (z0 + 0.75, z0 + ln - 0.75):
            u, v = cv.P(xs, 0.3, zz)
            rr = sc.f * 0.3 / zz
            ax = (int(round(u * 8)), int(round(v * 8)))
            axes = (
                max(1, int(round(rr * 8 * abs(sc.camx - xs) / np.hypot(sc.camx - xs, zz) + 4))),
                max(1, int(round(rr * 8))),
            )
            for img in (cv.g, cv.b):
                cv2.ellipse(
                    img,
                    ax,
                    axes,
                    0,
                    0,
                    360,
                    tuple(float(q) for q in _fogc(sc, (0.05, 0.05, 0.06), zz)),
                    -1,
                    cv2.LINE_AA,
                    3,
                )


def _pole(sc, cv: _Canvas, p):
    x, z, kind = p["x"], p["z"], p["kind"]
    if z < 1.5:
        return
    f = sc.f
    if kind == "util":
        top = 8.5
        w = 0.28
        a = cv.P(x - w / 2, 0, z)
        b = cv.P(x + w / 2, top, z)
        col = _fogc(sc, _lightc(sc, (0.62, 0.61, 0.58), np.array([-np.sign(x), 0, -0.3], F32)), z)
        cv.poly([a, (b[0], a[1]), b, (a[0], b[1])], col)
        ca = cv.P(x - 0.9, top - 0.6, z)
        cb = cv.P(x + 0.9, top - 0.45, z)
        cv.poly([ca, (cb[0], ca[1]), cb, (ca[0], cb[1])], _fogc(sc, (0.2, 0.2, 0.2), z))
        tr = cv.P(x - 0.25 * np.sign(x), top - 2.0, z)
        cv.circle(tr, f * 0.3 / z, _fogc(sc, _lightc(sc, (0.5, 0.52, 0.52), np.array([0, 0, -1], F32)), z))
    elif kind == "lamp":
        top = 5.5
        w = 0.12
        a = cv.P(x - w / 2, 0, z)
        b = cv.P(x + w / 2, top, z)
        col = _fogc(sc, (0.22, 0.23, 0.25), z)
        cv.poly([a, (b[0], a[1]), b, (a[0], b[1])], col)
        hx = x - np.sign(x) * 1.1
        cv.line(cv.P(x, top, z), cv.P(hx, top + 0.2, z), col, max(1, f * 0.08 / z))
        hp = cv.P(hx, top + 0.1, z)
        cv.circle(hp, max(0.8, f * 0.17 / z), (1.0, 0.85, 0.6) if sc.dusk else _fogc(sc, (0.8, 0.8, 0.78), z))
        if sc.dusk:
            sc.__dict__.setdefault("lamps", []).append((hp, f / z))
    else:
        top = 2.4
        w = 0.07
        a = cv.P(x - w / 2, 0, z)
        b = cv.P(x + w / 2, top, z)
        cv.poly([a, (b[0], a[1]), b, (a[0], b[1])], _fogc(sc, (0.6, 0.6, 0.62), z))
        cpt = cv.P(x, top, z)
        rr = f * 0.32 / z
        t = p["sign"]
        if t == 0:  # no-entry / speed: red ring
            cv.circle(cpt, rr, _fogc(sc, _lightc(sc, (0.75, 0.1, 0.1), np.array([0, 0, -1], F32)), z))
            cv.circle(cpt, rr * 0.72, _fogc(sc, _lightc(sc, (0.92, 0.92, 0.9), np.array([0, 0, -1], F32)), z))
        elif t == 1:  # blue disc
            cv.circle(cpt, rr, _fogc(sc, _lightc(sc, (0.1, 0.3, 0.7), np.array([0, 0, -1], F32)), z))
            cv.circle(cpt, rr * 0.35, _fogc(sc, (0.9, 0.9, 0.9), z))
        elif t == 2:  # triangle (stop)
            pts = [(cpt[0] - rr, cpt[1] - rr * 0.8), (cpt[0] + rr, cpt[1] - rr * 0.8), (cpt[0], cpt[1] + rr)]
            cv.poly(pts, _fogc(sc, _lightc(sc, (0.8, 0.1, 0.12), np.array([0, 0, -1], F32)), z))
        else:  # curved mirror on an orange pole
            cv.circle(cpt, rr * 1.1, _fogc(sc, (0.95, 0.45, 0.1), z))
            cv.circle(cpt, rr * 0.9, _fogc(sc, sc.sky_hor * 0.7 + 0.1, z))


def _rail(sc, cv: _Canvas, x, za, zb):
    if zb < 1.0:
        return
    za = max(za, 1.0)
    col = _fogc(sc, _lightc(sc, (0.28, 0.30, 0.30), np.array([-np.sign(x), 0, 0], F32)), (za + zb) / 2)
    a, b = cv.P(x, 1.05, za), cv.P(x, 1.05, zb)
    cv.line(a, b, col, max(1.0, sc.f * 0.06 / za))
    a2, b2 = cv.P(x, 0.55, za), cv.P(x, 0.55, zb)
    cv.line(a2, b2, col, max(1.0, sc.f * 0.04 / za))
    for zz in np.arange(np.ceil(za / 2.0) * 2.0, zb, 2.0):
        cv.line(cv.P(x, 0.0, zz), cv.P(x, 1.05, zz), col, max(1.0, sc.f * 0.05 / zz))


def _trunk(sc, cv: _Canvas, t):
    z = t["z"]
    if z < 1.0:
        return
    x, th, lean = t["x"], t["th"], t["lean"]
    top = th + t["ry"] * 0.6
    w0, w1 = 0.30, 0.16
    n = np.array([-np.sign(x - sc.camx) or 1, 0, -0.4], F32)
    col = _fogc(sc, _lightc(sc, t["bark"], n / np.linalg.norm(n)), z)
    pts = [
        cv.P(x - w0 / 2, 0, z),
        cv.P(x + w0 / 2, 0, z),
        cv.P(x + lean * 0.55 + w1 / 2, top, z),
        cv.P(x + lean * 0.55 - w1 / 2, top, z),
    ]
    cv.poly(pts, col)


# ---------------------------------------------------------------------------------------------
# the one thing the season changes: tree crowns


def _crown(sc, cv: _Canvas, t, pal):
    """Composite one tree crown: summer foliage into cv.g, blossom into cv.b (computed at half the
    working resolution, upsampled, composited at the working resolution)."""
    S, f = sc.S, sc.f
    r = np.random.default_rng(t["seed"])
    cx = t["x"] + t["lean"]
    cy = t["th"] + t["ry"] * 0.85
    cz = t["z"]
    rx, ry, rz = t["rx"], t["ry"], t["rz"]
    shape = t["shape"]
    n = int(r.integers(22, 40))
    d = r.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    rad = r.uniform(0.45, 1.0, n) ** 0.4
    if shape == "spread":
        d[:, 1] = np.abs(d[:, 1]) * 0.6 + d[:, 1] * 0.4 - 0.1
    pts = np.stack([cx + d[:, 0] * rad * rx, cy + d[:, 1] * rad * ry, cz + d[:, 2] * rad * rz], 1)
    pts[:, 0] += (pts[:, 1] - cy) / ry * t["lean"] * 0.3
    rc = np.full(n, 0.38 * (rx + ry) / 2) * r.uniform(0.7, 1.2, n)
    if shape == "column":
        rc *= 1.2
    nrm = d * rad[:, None]
    L = sc.L if sc.has_sun else np.array([0.0, 1.0, 0.0], F32)
    lam = nrm @ L
    if sc.has_sun:
        shade = 0.35 + 0.65 * np.clip(0.5 + 0.6 * lam, 0, 1)
    else:
        shade = 0.55 + 0.35 * np.clip(0.5 + 0.5 * nrm[:, 1], 0, 1)
    weep_r = r.random(n)
    weep_l = r.uniform(1.5, 3.6, n)
    keep = pts[:, 2] > 0.9
    pts, rc, shade, weep_r, weep_l = pts[keep], rc[keep], shade[keep], weep_r[keep], weep_l[keep]
    if len(pts) == 0:
        return
    # reduced-resolution patch coordinates: 1/2 of the working resolution, 1/4 for near crowns
    ks = 4 if f / cz * 0.09 > 5.0 else 2
    iks = 1.0 / ks
    u, v = _P(sc, pts[:, 0], pts[:, 1], pts[:, 2])
    u, v = u * iks, v * iks
    rp = f * rc / pts[:, 2] * iks
    strands = []
    if shape == "weep":
        for k in range(len(pts)):
            if pts[k, 1] > cy - ry * 0.3 and weep_r[k] < 0.8:
                y1 = max(pts[k, 1] - weep_l[k], 0.9)
                off = (pts[k, 0] - cx) * 0.25
                a = _P(sc, pts[k, 0], pts[k, 1], pts[k, 2])
                b = _P(sc, pts[k, 0] + off, y1, pts[k, 2])
                strands.append(
                    ((a[0] * iks, a[1] * iks), (b[0] * iks, b[1] * iks), f * 0.22 * iks / pts[k, 2], shade[k])
                )
    H = -(-S // ks)
    pad = rp.max() * 0.6 + 2
    sx = [s_[1][0] for s_ in strands]
    sy = [s_[1][1] for s_ in strands]
    X0 = int(np.floor(min((u - rp).min(), min(sx, default=1e9)) - pad))
    X1 = int(np.ceil(max((u + rp).max(), max(sx, default=-1e9)) + pad))
    Y0 = int(np.floor((v - rp).min() - pad))
    Y1 = int(np.ceil(max((v + rp).max(), max(sy, default=-1e9)) + pad))
    X0, Y0, X1, Y1 = max(X0, 0), max(Y0, 0), min(X1, H), min(Y1, H)
    if X1 - X0 < 2 or Y1 - Y0 < 2:
        return
    hp, wp = Y1 - Y0, X1 - X0
    D = np.zeros((hp, wp), F32)
    Sh = np.zeros((hp, wp), F32)
    order = np.argsort(-pts[:, 2])
    Ld = np.array([L[0], -L[1]], F32)
    Ld /= np.linalg.norm(Ld) + 1e-6

    def q(x_, y_):
        return (int(round((x_ - X0) * 8)), int(round((y_ - Y0) * 8)))

    for k in order:
        c = q(u[k], v[k])
        rr = max(1, int(round(rp[k] * 8)))
        cv2.circle(D, c, rr, 1.0, -1, cv2.LINE_8, 3)
        cv2.circle(Sh, c, rr, float(shade[k] * 0.78), -1, cv2.LINE_8, 3)
        c2 = q(u[k] + Ld[0] * rp[k] * 0.3, v[k] + Ld[1] * rp[k] * 0.3)
        cv2.circle(Sh, c2, max(1, int(round(rp[k] * 0.62 * 8))), float(min(1.0, shade[k] * 1.1)), -1, cv2.LINE_8, 3)
    for a, b, wdt, shd in strands:
        wd = max(1, int(round(wdt)))
        cv2.line(D, q(*a), q(*b), 1.0, wd, cv2.LINE_AA, 3)
        cv2.line(Sh, q(*a), q(*b), float(shd * 0.7), wd, cv2.LINE_AA, 3)
    rmean = float(np.median(rp))
    D = cv2.GaussianBlur(D, (0, 0), max(0.6, rmean * 0.22))
    Sh = cv2.GaussianBlur(Sh, (0, 0), max(0.5, rmean * 0.12))
    # branches: same geometry in both seasons; the seasons differ in how much of them shows
    Bm = np.zeros((hp, wp), F32)
    tb = _P(sc, t["x"] + t["lean"] * 0.55, t["th"] + t["ry"] * 0.6, cz)
    tb = (tb[0] * iks, tb[1] * iks)
    wd = max(1, int(round(f * 0.09 * iks / cz)))
    for k in order[:: max(1, len(order) // 9)]:
        mid = ((tb[0] + u[k]) / 2 + r.uniform(-0.3, 0.3) * rp[k], (tb[1] + v[k]) / 2 - rp[k] * 0.2)
        cv2.line(Bm, q(*tb), q(*mid), 1.0, wd, cv2.LINE_AA, 3)
        cv2.line(Bm, q(*mid), q(u[k], v[k]), 1.0, max(1, wd // 2), cv2.LINE_AA, 3)
    np.clip(Bm, 0, 1, out=Bm)

    pxm = f / cz * iks  # patch pixels per metre at the crown
    leaf = _noise(r, hp, wp, max(1.0, pxm * 0.09))
    mid = _noise(r, hp, wp, max(1.5, pxm * 0.45))
    big = _noise(r, hp, wp, max(2.0, pxm * 1.4))
    petal = _noise(r, hp, wp, max(1.0, pxm * 0.06))
    clus = _noise(r, hp, wp, max(1.2, pxm * 0.22))
    young = _noise(r, hp, wp, max(1.0, pxm * 0.07))

    fogt = F32(1 - np.exp(-cz / sc.fogd))
    amb, sun = sc.amb, sc.sunc
    sunk = 1.0 if sc.has_sun else 0.0
    vert = np.linspace(0, 1, hp, dtype=F32)[:, None]
    Ill = (
        amb[None, None, :] * (0.75 + 0.35 * Sh)[..., None]
        + sun[None, None, :] * (sunk * 1.25 * np.clip(Sh - 0.3, 0, 1))[..., None]
    )
    brc = t["bark"] * (amb + sun * 0.3 * sunk) * (1 - fogt) + sc.haze * fogt
    nb = 1 - Bm

    # summer foliage
    fld = D + 0.34 * (mid - 0.5) + 0.26 * (leaf - 0.5) + 0.10 * (big - 0.5)
    ag = _smooth(0.44, 0.54, fld)
    gcol = (pal["green"] * r.uniform(0.88, 1.12, 3)).astype(F32)
    tone = (0.62 + 0.75 * leaf) * (0.85 + 0.3 * big) * (0.8 + 0.25 * _smooth(0.5, 0.9, fld)) * (1 - 0.15 * vert)
    hi = np.clip((leaf - 0.62) * 2.5, 0, 1) * np.clip(Sh - 0.5, 0, 1) * sunk
    cg = gcol * Ill * tone[..., None] + np.array([0.35, 0.38, 0.12], F32) * hi[..., None]
    # premultiplied layer: branches under foliage
    Ag = 1 - nb * (1 - ag)
    Cg = (cg * (1 - fogt) + sc.haze * fogt) * ag[..., None] + brc * (Bm * (1 - ag))[..., None]

    # blossom: clustered petals, darker gaps, branches showing, a few young leaves
    fb = D + 0.42 * (clus - 0.5) + 0.24 * (petal - 0.5) + 0.12 * (big - 0.5)
    ab = _smooth(0.50, 0.60, fb)
    pk = (pal["pink"] * r.uniform(0.96, 1.04, 3)).astype(F32)
    lum = np.clip(0.55 + 0.6 * (clus - 0.5) + 0.5 * (petal - 0.5) + 0.4 * (Sh - 0.55), 0, 1)
    cb = pal["shadow"] + (pk - pal["shadow"]) * lum[..., None]
    cb = cb * Ill * (0.92 + 0.2 * _smooth(0.6, 0.95, petal) - 0.1 * vert)[..., None]
    cb += (np.clip(Sh - 0.55, 0, 1) * (0.25 * sunk))[..., None] * (sun * (pk * 0.5 + 0.5))
    yl = _smooth(pal["young"], pal["young"] + 0.05, young) * _smooth(0.5, 0.7, fb)
    cb += (pal["leaf"] * Ill * (0.7 + 0.5 * leaf)[..., None] - cb) * yl[..., None]
    Ab = 1 - nb * (1 - ab)
    Cb = (cb * (1 - fogt) + sc.haze * fogt) * ab[..., None] + brc * (Bm * (1 - ab))[..., None]

    # crop to where either season covers anything, keeping a one-pixel empty margin
    cover = np.maximum(Ag, Ab) > 1e-3
    rows = np.flatnonzero(cover.any(1))
    cols = np.flatnonzero(cover.any(0))
    if rows.size == 0:
        return
    ra, rb = max(int(rows[0]) - 1, 0), min(int(rows[-1]) + 2, hp)
    ca, cb_ = max(int(cols[0]) - 1, 0), min(int(cols[-1]) + 2, wp)
    Ag, Ab, Cg, Cb = Ag[ra:rb, ca:cb_], Ab[ra:rb, ca:cb_], Cg[ra:rb, ca:cb_], Cb[ra:rb, ca:cb_]
    Y0, Y1, X0, X1 = Y0 + ra, Y0 + rb, X0 + ca, X0 + cb_
    hp, wp = Y1 - Y0, X1 - X0
    y0, x0 = ks * Y0, ks * X0
    y1, x1 = min(ks * Y1, S), min(ks * X1, S)
    for canvas, A, C in ((cv.g, Ag, Cg), (cv.b, Ab, Cb)):
        A2 = cv2.resize(1 - A, (ks * wp, ks * hp), interpolation=cv2.INTER_LINEAR)[: y1 - y0, : x1 - x0]
        C2 = cv2.resize(C, (ks * wp, ks * hp), interpolation=cv2.INTER_LINEAR)[: y1 - y0, : x1 - x0]
        region = canvas[y0:y1, x0:x1]
        region *= A2[..., None]
        region += C2


def _petals(sc, cv: _Canvas, pal):
    """Fallen petals on the ground and path near the trees (blossom canvas only)."""
    r = sc.rng
    S = sc.S
    pm = np.zeros((S, S), F32)
    for t in sc.trees:
        if t["z"] > 60:
            continue
        n = int(r.integers(80, 260) * min(1.0, 18.0 / t["z"]))
        xs = t["x"] + t["lean"] + r.normal(0, t["rx"] * 0.9, n)
        zs = t["z"] + r.normal(0, t["rz"] * 0.9, n)
        ok = zs > 1.0
        xs, zs = xs[ok], zs[ok]
        u, v = cv.P(xs, 0.0, zs)
        rr = sc.f * 0.022 / zs
        for i in range(len(xs)):
            if rr[i] < 0.25:
                continue
            cv2.ellipse(
                pm,
                (int(u[i] * 8), int(v[i] * 8)),
                (max(1, int(rr[i] * 16)), max(1, int(rr[i] * 6))),
                0,
                0,
                360,
                1.0,
                -1,
                cv2.LINE_AA,
                3,
            )
    # a band of petals drifted into the gutter
    pm = (np.clip(pm, 0, 1) * (sc.mat == 1)).ravel()
    j = np.flatnonzero(pm > 0)
    col = pal["pink"] * 0.8 + 0.15
    lit = (sc.amb + sc.sunc * (max(float(sc.L[1]), 0.0) if sc.has_sun else 0.0) * sc.lit_ground.ravel()[j, None]) * 0.95
    b = cv.b.reshape(-1, 3)
    m = pm[j, None] * 0.85
    b[j] = b[j] * (1 - m) + (col * lit) * m


# ---------------------------------------------------------------------------------------------


def _palette(r, sc):
    greens = [(0.26, 0.42, 0.15), (0.20, 0.36, 0.17), (0.32, 0.45, 0.14), (0.19, 0.31, 0.19), (0.28, 0.38, 0.12)]
    g = np.asarray(greens[int(r.integers(len(greens)))], F32)
    depth = r.uniform(0.0, 1.0) ** 1.3  # 0 = near-white somei-yoshino, 1 = deep pink yaezakura
    pale = np.array([0.98, 0.93, 0.95], F32)
    deep = np.array([0.94, 0.52, 0.70], F32)
    pk = pale * (1 - depth) + deep * depth
    shadow = np.array([0.55, 0.40, 0.52], F32) * (1 - depth) + np.array([0.55, 0.25, 0.40], F32) * depth
    leaf = np.array([0.42, 0.44, 0.18], F32) if r.random() < 0.6 else np.array([0.55, 0.30, 0.22], F32)
    return dict(green=g, pink=pk, shadow=shadow, leaf=leaf, young=r.uniform(0.72, 0.95), petals=bool(r.random() < 0.5))


def _barrel_maps(S, k):
    c = (S - 1) / 2.0
    n = (np.arange(S, dtype=F32) - c) / c
    nx, ny = n[None, :], n[:, None]
    sc_ = (1 + k * (nx * nx + ny * ny)) / (1 + 2 * max(k, 0.0))  # corners stay inside the frame
    return (nx * sc_ * c + c).astype(F32), (ny * sc_ * c + c).astype(F32)


def _painterly(img, rng):
    out = cv2.bilateralFilter(img, 5, 0.12, 3)
    q = 10.0
    out = np.round(out * q) / q * 0.55 + out * 0.45
    lum = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    edges = np.abs(cv2.Laplacian(lum, cv2.CV_32F, ksize=3))
    out = out * (1 - np.clip(edges * 0.8, 0, 0.35))[..., None]
    h, w = lum.shape
    paper = _noise(rng, h, w, 2.0) * 0.6 + _noise(rng, h, w, 9.0) * 0.4
    out = out * (0.94 + 0.1 * paper)[..., None] + 0.02
    return out


def render(seed: int, size: int = 256):
    """(green, blossom, canopy) for one street scene: RGB images size x size, and a bool mask
    (size, size) of every pixel the season changes."""
    rng = np.random.default_rng(seed)
    S = int(size) * 2
    sc = _Scene(rng, S)
    sc.crowns = []
    pal = _palette(rng, sc)
    img = _background(sc, _shadow_map(sc))
    cv = _Canvas(img, sc)
    if pal["petals"]:
        _petals(sc, cv, pal)

    # painter's algorithm, far to near
    items = []
    for c in sc.cars:
        items.append((c["z"] + c["len"] * 0.2, 1, c))
    for p in sc.poles:
        items.append((p["z"], 2, p))
    for t in sc.trees:
        items.append((t["z"] + 0.05, 3, t))
        items.append((t["z"] - 0.05, 4, t))
    for x in sc.rails:
        for za in np.arange(0.0, 150.0, 6.0):
            items.append((za + 0.8, 5, (x, za, za + 6.0)))
    items.sort(key=lambda it: -it[0])
    for _, kind, o in items:
        if kind == 1:
            _car(sc, cv, o)
        elif kind == 2:
            _pole(sc, cv, o)
        elif kind == 3:
            _trunk(sc, cv, o)
        elif kind == 4:
            _crown(sc, cv, o, pal)
        else:
            _rail(sc, cv, *o)

    # overhead wires between utility poles (drawn last)
    ut = sorted([p for p in sc.poles if p["kind"] == "util"], key=lambda p: p["z"])
    wcol = (0.12, 0.12, 0.13) if not sc.dusk else (0.05, 0.05, 0.08)
    for a, b in zip(ut[:-1], ut[1:], strict=False):
        if abs(a["x"] - b["x"]) > 0.5 or a["z"] < 1.5:
            continue
        for k_, off in enumerate((-0.7, -0.1, 0.6)):
            zz = np.linspace(a["z"], b["z"], 14)
            tt = np.linspace(0, 1, 14)
            yy = 8.0 - 0.2 * k_ - 0.5 * 4 * tt * (1 - tt)
            u, v = cv.P(a["x"] + off, yy, zz)
            p = np.round(np.stack([u, v], 1) * 8).astype(np.int32)
            for im in (cv.g, cv.b):
                cv2.polylines(im, [p], False, wcol, 1, cv2.LINE_AA, 3)

    G, B = cv.g.astype(F32, copy=False), cv.b.astype(F32, copy=False)
    # dusk: warm lamp glow (same additive light on both)
    if sc.dusk and sc.__dict__.get("lamps"):
        glow = np.zeros((S, S), F32)
        for (hu, hv), pxm in sc.lamps:
            if -S < hu < 2 * S:
                cv2.circle(glow, (int(hu), int(hv)), max(1, int(pxm * 0.25)), 1.0, -1)
        glow = cv2.GaussianBlur(glow, (0, 0), S / 40.0) * 1.5 + cv2.GaussianBlur(glow, (0, 0), S / 200.0) * 0.8
        add = glow[..., None] * np.array([1.0, 0.7, 0.35], F32) * 0.5
        G = G + add
        B = B + add
    G = cv2.resize(G, (size, size), interpolation=cv2.INTER_AREA)
    B = cv2.resize(B, (size, size), interpolation=cv2.INTER_AREA)
    if abs(sc.barrel) > 0.01:  # lens distortion, the same warp on both
        mx, my = _barrel_maps(size, sc.barrel)
        G = cv2.remap(G, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        B = cv2.remap(B, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if sc.paint:
        G = _painterly(G, np.random.default_rng(seed + 7))
        B = _painterly(B, np.random.default_rng(seed + 7))
    # grade: per-scene tone curve, vignette, grain (all identical on both)
    gamma = rng.uniform(0.9, 1.1)
    tint = np.array([1.0, 1.0, 1.0], F32) + rng.uniform(-0.04, 0.04, 3).astype(F32)
    yy, xx = np.mgrid[0:size, 0:size].astype(F32)
    rr = ((xx - size / 2) ** 2 + (yy - size / 2) ** 2) / (size * size / 2)
    vig = (1 - rng.uniform(0.1, 0.3) * rr)[..., None]
    gr_amt = rng.uniform(0.008, 0.03) * (0.4 if sc.paint else 1.0)
    grain = rng.normal(0, gr_amt, (size, size, 1)).astype(F32)
    out = []
    for im in (G, B):
        im = np.clip(im, 0, 1.5) * tint * vig
        im = np.clip(im, 0, None) ** gamma
        im = im / (1 + 0.25 * np.maximum(im - 0.8, 0))  # soft shoulder
        im = im + grain
        out.append(np.clip(im * 255 + 0.5, 0, 255).astype(np.uint8))
    g8, b8 = out
    canopy = (g8 != b8).any(-1)
    return Image.fromarray(g8, "RGB"), Image.fromarray(b8, "RGB"), canopy
