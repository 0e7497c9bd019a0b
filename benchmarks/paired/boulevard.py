"""`boulevard`: a procedural tree-lined street rendered twice, in summer green and in cherry blossom.

One scene per seed: a pinhole camera (eye height, focal length, vanishing point, slight yaw, lateral position)
looking down a straight street between two continuous rows of facades (blocks of varied height, colour, windows,
shop fronts, awnings, signs, an occasional cross-street gap), a road with kerbs, markings and maybe a zebra crossing,
pavements of slabs, street trees on one or both sides, parked and driving cars of many colours, lamp posts, a clear or
cloudy sky and one sun whose direction sets every shading and shadow (buildings on the road and on the opposite
facade, trees, trunks, cars, lamp posts on the ground).

Ground, sky and facades are evaluated per pixel from the exact ray geometry; everything standing in the street is a
3D polygon or circle projected and painted far to near. Trees write into a canopy buffer (shade, tint, layer, haze)
instead of colour; the two seasons differ only in how that buffer is coloured (and, in blossom, in petals fallen on
the ground), so everything else is the same floating-point image in both versions. The scene is drawn at twice the
output size, filtered and area-downsampled, then the same lens vignetting and the same sensor noise are applied to
both; the returned mask is exactly the set of output pixels that differ.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

NAME = "boulevard"

_NEAR = 0.3  # m: polygons are clipped to camera depth >= this
_SH = 3  # fixed-point bits for cv2 drawing (subpixel positions)
_ONE = 1 << _SH

# layer codes in the canopy buffer (channel 2)
_L_BASE, _L_LEAF, _L_PETAL, _L_BRANCH = 0, 1, 2, 3

_CAR_COLOURS = {
    "white": (236, 236, 232),
    "pearl": (225, 222, 212),
    "silver": (172, 175, 178),
    "grey": (112, 115, 118),
    "black": (28, 29, 32),
    "red": (178, 22, 26),
    "dark red": (110, 18, 26),
    "pink": (226, 128, 160),
    "blue": (28, 66, 160),
    "light blue": (120, 165, 210),
    "navy": (24, 32, 70),
    "green": (34, 110, 52),
    "dark green": (24, 60, 40),
    "yellow": (222, 184, 30),
    "orange": (214, 100, 28),
    "beige": (196, 178, 140),
    "brown": (96, 66, 44),
}
_CAR_WEIGHTS = {
    "white": 0.16,
    "pearl": 0.05,
    "silver": 0.10,
    "grey": 0.10,
    "black": 0.10,
    "red": 0.08,
    "dark red": 0.03,
    "pink": 0.05,
    "blue": 0.07,
    "light blue": 0.03,
    "navy": 0.04,
    "green": 0.05,
    "dark green": 0.03,
    "yellow": 0.03,
    "orange": 0.02,
    "beige": 0.04,
    "brown": 0.02,
}

_E_Y = np.array([0, 1, 0], np.float32)
_E_Z = np.array([0, 0, 1], np.float32)
_HUB = np.array([120, 122, 126], np.float32)
_TAIL = np.array([190, 20, 24], np.float32)
_HEAD = np.array([235, 232, 215], np.float32)
_GRILLE = np.array([30, 30, 32], np.float32)
_PLATE = np.array([230, 230, 222], np.float32)

_FACADE_COLOURS = np.array(
    [
        (222, 210, 186),
        (236, 228, 210),
        (200, 178, 150),
        (176, 96, 70),
        (150, 84, 62),
        (190, 120, 90),
        (168, 168, 162),
        (120, 122, 124),
        (232, 212, 150),
        (206, 186, 120),
        (178, 196, 206),
        (160, 178, 160),
        (240, 238, 232),
        (214, 170, 150),
        (110, 90, 78),
        (196, 150, 110),
        (228, 190, 178),
        (90, 96, 104),
    ],
    np.float32,
)
_SIGN_COLOURS = np.array(
    [
        (196, 30, 36),
        (24, 70, 150),
        (20, 110, 60),
        (236, 196, 40),
        (30, 30, 30),
        (240, 240, 236),
        (230, 110, 30),
        (120, 40, 110),
        (0, 140, 150),
    ],
    np.float32,
)
_AWNING_COLOURS = np.array(
    [
        (170, 30, 36),
        (24, 80, 60),
        (30, 60, 120),
        (210, 170, 60),
        (240, 236, 228),
        (60, 60, 60),
        (200, 90, 40),
        (120, 30, 60),
    ],
    np.float32,
)


# --------------------------------------------------------------------------------------------------------- scene


def _scene(seed: int) -> dict:
    """Every random choice of one scene, independent of the output size."""
    rng = np.random.default_rng(seed)
    sc: dict = {}
    # street
    lanes = int(rng.choice([1, 2, 2, 2, 3, 4]))
    lane_w = rng.uniform(2.9, 3.5)
    road_w = lanes * lane_w + 2 * rng.uniform(1.9, 2.3)  # plus a parking strip each side
    pave_w = rng.uniform(2.6, 5.5)
    sc["W2"] = road_w / 2
    sc["Xf"] = road_w / 2 + pave_w
    sc["lanes"], sc["lane_w"] = lanes, lane_w
    sc["centre_line"] = lanes >= 2 and rng.random() < 0.8
    sc["edge_lines"] = rng.random() < 0.5
    sc["zebra"] = float(rng.uniform(12, 45)) if rng.random() < 0.35 else None
    sc["asphalt"] = np.array([1.0, 1.0, 1.0], np.float32) * rng.uniform(78, 112) + rng.normal(0, 3, 3)
    pave_kind = rng.integers(3)
    sc["pave"] = np.array([(176, 172, 164), (196, 186, 168), (160, 104, 86)][pave_kind], np.float32) * rng.uniform(
        0.85, 1.1
    )
    sc["slab"] = float(rng.uniform(0.4, 0.9)) if pave_kind != 2 else float(rng.uniform(0.2, 0.3))
    sc["kerb"] = np.array([168, 166, 160], np.float32) * rng.uniform(0.85, 1.05)

    # camera
    elevated = rng.random() < 0.12
    sc["h"] = rng.uniform(3.0, 5.5) if elevated else rng.uniform(1.25, 2.1)
    sc["cx"] = rng.uniform(-0.7, 0.7) * sc["W2"]
    sc["yaw"] = math.radians(rng.uniform(-7, 7))
    sc["fn"] = rng.uniform(0.55, 0.95)  # focal length / image width
    sc["u0n"] = 0.5 + rng.uniform(-0.05, 0.05)
    sc["v0n"] = rng.uniform(0.40, 0.58)

    # light and sky
    cloudy = rng.random() < 0.3
    sc["cloudy"] = cloudy
    sc["clouds"] = 1.0 if cloudy else (rng.uniform(0.2, 0.8) if rng.random() < 0.55 else 0.0)
    el = math.radians(rng.uniform(18, 62))
    az = rng.uniform(0, 2 * math.pi)
    sc["sun"] = np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)], np.float32)
    sc["el"], sc["az"] = el, az
    if cloudy:
        sc["amb"], sc["dir"], sc["shadow"] = rng.uniform(0.78, 0.9), rng.uniform(0.08, 0.18), 0.25
    else:
        sc["amb"], sc["dir"], sc["shadow"] = rng.uniform(0.5, 0.62), rng.uniform(0.55, 0.75), 1.0
    sc["fog"] = rng.uniform(250, 900)
    sc["warm"] = rng.uniform(-1, 1)  # white balance
    sc["exposure"] = rng.uniform(0.92, 1.08)
    sc["sky_lo"] = rng.random((5, 7)).astype(np.float32)
    sc["sky_oct"] = [rng.random((4 * 2**k, 6 * 2**k)).astype(np.float32) for k in range(4)]

    # facades: blocks along each side
    sides = {}
    for side in (-1, 1):
        z = rng.uniform(-20, -2)
        blocks = []
        while z < 700:
            gap = rng.random() < 0.06 and z > 15
            length = rng.uniform(9, 14) if gap else rng.uniform(7, 26)
            storeys = int(rng.integers(2, 8))
            fh = rng.uniform(2.9, 3.5)
            shop = rng.random() < 0.6
            gh = rng.uniform(3.6, 4.6) if shop else fh
            blk = {
                "z0": z,
                "z1": z + length,
                "H": 0.0 if gap else gh + (storeys - 1) * fh + rng.uniform(0.4, 1.5),
                "fh": fh,
                "gh": gh,
                "shop": shop,
                "col": _FACADE_COLOURS[rng.integers(len(_FACADE_COLOURS))] * rng.uniform(0.88, 1.08)
                + rng.normal(0, 5, 3).astype(np.float32),
                "pw": rng.uniform(2.2, 4.0),
                "ww": rng.uniform(0.35, 0.6),
                "wh": rng.uniform(0.45, 0.62),
                "frame": np.array(
                    [(235, 232, 225), (60, 55, 50), (200, 190, 170), (120, 70, 50)][rng.integers(4)], np.float32
                ),
                "glass": np.array([70, 82, 98], np.float32) * rng.uniform(0.7, 1.3),
                "sign": _SIGN_COLOURS[rng.integers(len(_SIGN_COLOURS))],
                "letter": np.array((250, 250, 245) if rng.random() < 0.7 else (25, 25, 25), np.float32),
                "awning": (_AWNING_COLOURS[rng.integers(len(_AWNING_COLOURS))], rng.random() < 0.5)
                if shop and rng.random() < 0.45
                else None,
                "blade": _SIGN_COLOURS[rng.integers(len(_SIGN_COLOURS))] if shop and rng.random() < 0.3 else None,
                "hash": int(rng.integers(1 << 20)),
            }
            blocks.append(blk)
            z += length
        sides[side] = blocks
    sc["blocks"] = sides

    # trees
    which = rng.choice(["both", "both", "both", "left", "right"])
    sc["tree_sides"] = {"both": (-1, 1), "left": (-1,), "right": (1,)}[which]
    spacing = rng.uniform(6.0, 11.0)
    R = rng.uniform(2.6, 4.8)
    shape = rng.choice(["round", "spread", "tall"])
    rv = {"round": 0.85, "spread": 0.62, "tall": 1.15}[shape]
    trunk_h = rng.uniform(2.0, 3.2)
    green_tint = rng.uniform(0.2, 0.8)
    pink = rng.uniform(0.0, 1.0) ** 1.5  # 0: pale Yoshino-like white, 1: deep Kanzan-like pink
    trees = []
    tree_off = rng.uniform(0.6, min(1.4, pave_w - 1.0))
    z_first = 2 * R + 2 if elevated else 0.0  # a raised camera must not sit inside a crown
    for side in sc["tree_sides"]:
        z = rng.uniform(1.5, spacing + 2)
        while z < 170:
            if rng.random() < 0.93 and z > z_first:  # an occasional missing tree
                s = rng.uniform(0.82, 1.18)
                trees.append(
                    {
                        "X": side * (sc["W2"] + tree_off) + rng.normal(0, 0.08),
                        "Z": z,
                        "R": R * s,
                        "Rv": R * s * rv * rng.uniform(0.9, 1.1),
                        "th": trunk_h * rng.uniform(0.9, 1.1),
                        "lean": -side * rng.uniform(0.2, 0.9),  # pruned to lean over the road
                        "tint": float(np.clip(green_tint + rng.normal(0, 0.12), 0, 1)),
                        "pink": float(np.clip(pink + rng.normal(0, 0.08), 0, 1)),
                        "seed": int(rng.integers(1 << 31)),
                        "side": side,
                    }
                )
            z += spacing * rng.uniform(0.85, 1.15)
    sc["trees"] = trees
    sc["petals"] = rng.random() < 0.6
    sc["petal_density"] = rng.uniform(0.3, 1.0)

    # cars
    names = list(_CAR_WEIGHTS)
    p = np.array([_CAR_WEIGHTS[n] for n in names])
    p /= p.sum()
    cars = []

    def car(X, z, facing, parked):
        kind = rng.choice(["sedan", "hatch", "hatch", "suv", "van", "kei"], p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.1])
        L, Wd, H = {
            "sedan": (4.6, 1.78, 1.45),
            "hatch": (4.0, 1.72, 1.48),
            "suv": (4.6, 1.86, 1.7),
            "van": (4.9, 1.9, 2.0),
            "kei": (3.4, 1.48, 1.65),
        }[kind]
        s = rng.uniform(0.94, 1.05)
        name = str(rng.choice(names, p=p))
        col = np.array(_CAR_COLOURS[name], np.float32) * rng.uniform(0.92, 1.06)
        cars.append(
            {
                "X": X,
                "z0": z,
                "L": L * s,
                "W": Wd * s,
                "H": H * s,
                "kind": str(kind),
                "facing": facing,
                "colour": name,
                "rgb": np.clip(col, 0, 255),
                "parked": parked,
            }
        )
        return L * s

    park_p = rng.uniform(0.35, 0.85)
    for side in (-1, 1):
        z = rng.uniform(2.5, 9)
        while z < 120:
            if rng.random() < park_p:
                X = side * (sc["W2"] - rng.uniform(1.0, 1.2))
                z += car(X, z, int(rng.choice([-1, 1])) if rng.random() < 0.2 else (1 if side > 0 else -1), True)
                z += rng.uniform(0.6, 2.0)
            else:
                z += rng.uniform(3, 9)
    n_drive = int(rng.integers(0, 4))
    for _ in range(n_drive):
        lane = int(rng.integers(lanes))
        X = -lanes * lane_w / 2 + (lane + 0.5) * lane_w
        facing = 1 if (X > 0 or lanes == 1) else -1  # drive on the right: away on the right, oncoming on the left
        if lanes == 1:
            facing = 1
        z = rng.uniform(9, 90)
        if abs(X - sc["cx"]) < 1.5:
            z = max(z, 14.0)
        car(X + rng.normal(0, 0.2), z, facing, False)
    sc["cars"] = cars

    # lamp posts
    lamps = []
    lside = rng.choice([-1, 1, 0])
    lsp = rng.uniform(18, 32)
    lh = rng.uniform(5.5, 8.0)
    lcol = np.array([(50, 52, 55), (40, 60, 50), (120, 122, 124)][rng.integers(3)], np.float32)
    for side in (-1, 1) if lside == 0 else (int(lside),):
        z = rng.uniform(3, lsp)
        while z < 150:
            lamps.append({"X": side * (sc["W2"] + 0.35), "Z": z, "H": lh, "side": side, "col": lcol})
            z += lsp
    sc["lamps"] = lamps
    sc["vignette"] = rng.uniform(0.12, 0.32)
    sc["noise"] = rng.uniform(1.2, 3.2)
    return sc


def scene_info(seed: int) -> dict:
    """What a scene contains (for tests and reports): its cars (colour, parked or driving) and tree count."""
    sc = _scene(seed)
    return {
        "cars": [{"colour": c["colour"], "parked": c["parked"], "z": c["z0"]} for c in sc["cars"]],
        "trees": len(sc["trees"]),
        "cloudy": sc["cloudy"],
        "tree_sides": tuple(sc["tree_sides"]),
    }


# --------------------------------------------------------------------------------------------------------- render


class _Canvas:
    def __init__(self, sc: dict, S: int):
        self.sc, self.S = sc, S
        self.f = sc["fn"] * S
        self.u0, self.v0 = sc["u0n"] * S, sc["v0n"] * S
        self.cx, self.h = sc["cx"], sc["h"]
        self.c, self.s = math.cos(sc["yaw"]), math.sin(sc["yaw"])
        self.img = np.zeros((S, S, 3), np.float32)
        self.cbuf = np.zeros((S, S, 4), np.uint8)  # shade, tint, layer, haze
        self.shadow = np.zeros((S, S), np.uint8)
        sun = sc["sun"]
        # sun in camera frame -> screen direction for highlights
        sxc = self.c * sun[0] - self.s * sun[2]
        d = np.array([sxc, -sun[1]], np.float32)
        self.hl_dir = d / (np.linalg.norm(d) + 1e-6)
        self.tan_el = math.tan(sc["el"])

    # ---- geometry
    def cam(self, P: np.ndarray) -> np.ndarray:
        dX = P[..., 0] - self.cx
        dZ = P[..., 2]
        return np.stack([self.c * dX - self.s * dZ, P[..., 1] - self.h, self.s * dX + self.c * dZ], -1)

    def proj(self, Pc: np.ndarray) -> np.ndarray:
        z = Pc[..., 2]
        return np.stack([self.u0 + self.f * Pc[..., 0] / z, self.v0 - self.f * Pc[..., 1] / z], -1)

    def poly(self, P) -> np.ndarray | None:
        """World polygon -> fixed-point screen points, clipped to the near plane; None if nothing is left."""
        c, s, cx, h = self.c, self.s, self.cx, self.h
        pts = []
        for X, Y, Z in P.tolist() if isinstance(P, np.ndarray) else P:
            dX = X - cx
            pts.append((c * dX - s * Z, Y - h, s * dX + c * Z))
        if all(p[2] >= _NEAR for p in pts):
            clipped = pts
        else:
            clipped = []
            n = len(pts)
            for i in range(n):
                a, b = pts[i], pts[(i + 1) % n]
                ina, inb = a[2] >= _NEAR, b[2] >= _NEAR
                if ina:
                    clipped.append(a)
                if ina != inb:
                    t = (_NEAR - a[2]) / (b[2] - a[2])
                    clipped.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), _NEAR))
            if len(clipped) < 3:
                return None
        f, u0, v0 = self.f * _ONE, self.u0 * _ONE, self.v0 * _ONE
        lim_lo, lim_hi = -4 * self.S * _ONE, 5 * self.S * _ONE
        out = []
        for x, y, z in clipped:
            u = u0 + f * x / z
            v = v0 - f * y / z
            out.append((int(min(max(u, lim_lo), lim_hi)), int(min(max(v, lim_lo), lim_hi))))
        return np.array(out, np.int32)

    def fill(self, P, colour) -> None:
        pts = self.poly(P)
        if pts is None:
            return
        cv2.fillPoly(self.img, [pts], (float(colour[0]), float(colour[1]), float(colour[2])), cv2.LINE_8, _SH)
        cv2.fillPoly(self.cbuf, [pts], (0, 0, 0, 0), cv2.LINE_8, _SH)

    def haze(self, zc: float) -> float:
        return 1.0 - math.exp(-max(zc, 0.0) / self.sc["fog"])

    def shade_col(self, rgb, normal, haze_z: float, spec: float = 0.0) -> np.ndarray:
        sc = self.sc
        lam = max(0.0, float(np.dot(normal, sc["sun"])))
        up = max(0.0, normal[1])
        c = np.asarray(rgb, np.float32) * (sc["amb"] * (0.85 + 0.15 * up) + sc["dir"] * lam)
        c = c + spec * self.sky_ref
        h = self.haze(haze_z)
        return c * (1 - h) + self.haze_col * h

    def circle_poly(self, centre, r, axis_a, axis_b, n=14) -> np.ndarray:
        t = np.linspace(0, 2 * np.pi, n, endpoint=False)[:, None]
        return np.asarray(centre, np.float32) + r * (np.cos(t) * axis_a + np.sin(t) * axis_b)

    # ---- per-pixel background
    def sky(self) -> None:
        sc, S = self.sc, self.S
        v = np.arange(S, dtype=np.float32) + 0.5
        u = np.arange(S, dtype=np.float32) + 0.5
        b = (self.v0 - v) / self.f  # >0 above the horizon
        self.rows_sky = int(np.clip(math.ceil(self.v0 + 0.02 * self.f), 0, S))
        rs = self.rows_sky
        if sc["cloudy"]:
            zen, hor = np.array([150, 156, 166], np.float32), np.array([206, 208, 212], np.float32)
        else:
            zen = np.array([58, 108, 196], np.float32) * (1 + 0.1 * sc["warm"] * np.array([1, 0, -1], np.float32))
            hor = np.array([186, 206, 228], np.float32)
        self.haze_col = hor * 0.96 + 6
        self.sky_ref = (zen * 0.5 + hor * 0.5) / 255.0 * 40
        t = np.clip(b[:rs] / 0.7, 0, 1) ** 0.6
        grad = hor[None, :] * (1 - t[:, None]) + zen[None, :] * t[:, None]  # (rs,3)
        img = np.broadcast_to(grad[:, None, :], (rs, S, 3)).copy()
        if rs == 0:
            return
        # sun-side glow along the horizon
        sun = sc["sun"]
        sxc = self.c * sun[0] - self.s * sun[2]
        szc = self.s * sun[0] + self.c * sun[2]
        if szc > 0.1:
            us = self.u0 + self.f * sxc / szc
            vs = self.v0 - self.f * sun[1] / szc
            d2 = ((u[None, :] - us) ** 2 + (v[:rs, None] - vs) ** 2) / (0.6 * S) ** 2
            img += (np.exp(-d2) * (0.0 if sc["cloudy"] else 35.0))[..., None]
        if sc["clouds"] > 0:
            fbm = np.zeros((rs, S), np.float32)
            amp = 1.0
            for o in sc["sky_oct"]:
                fbm += amp * cv2.resize(o, (S, S), interpolation=cv2.INTER_CUBIC)[:rs]
                amp *= 0.5
            fbm /= 1.875
            if sc["cloudy"]:
                c = (fbm - 0.5) * 2.2
                img *= (1 + 0.18 * c)[..., None]
            else:
                cov = sc["clouds"]
                thr = 0.72 - 0.3 * cov
                c = np.clip((fbm - thr) / 0.12, 0, 1)
                cb = (0.8 + 0.2 * np.clip((fbm - thr) / 0.25, 0, 1))[..., None]
                cloud_col = np.array([246, 246, 248], np.float32) * cb
                img = img * (1 - c[..., None]) + cloud_col * c[..., None]
        self.img[:rs] = img

    def ground(self, tex_rng) -> None:
        sc, S = self.sc, self.S
        r0 = int(np.clip(math.floor(self.v0 - 0.5), 0, S - 1))
        v = np.arange(r0, S, dtype=np.float32) + 0.5
        bn = np.maximum((v - self.v0) / self.f, 1e-4)  # >0 below the horizon
        a = (np.arange(S, dtype=np.float32) + 0.5 - self.u0) / self.f
        t = (self.h / bn)[:, None].astype(np.float32)  # camera depth
        xc = a[None, :] * t
        X = self.cx + self.c * xc + self.s * t
        Z = -self.s * xc + self.c * t
        self.g_r0, self.gX, self.gZ, self.g_t = r0, X, Z, t
        ax = np.abs(X)
        W2, Xf = sc["W2"], sc["Xf"]
        # textures in world coordinates
        tex = cv2.GaussianBlur(tex_rng.random((128, 128), dtype=np.float32), (0, 0), 0.7)
        tex = (tex - tex.mean()) / (tex.std() + 1e-6)
        fine = cv2.remap(tex, X * 4.0, Z * 4.0, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        big_t = cv2.GaussianBlur(tex_rng.random((64, 64), dtype=np.float32), (0, 0), 2.0)
        big_t = (big_t - big_t.mean()) / (big_t.std() + 1e-6)
        big = cv2.remap(big_t, X * 1.5, Z * 0.6, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        near = np.clip(1.2 - t / 60.0, 0, 1)
        code = np.zeros(X.shape, np.uint8)  # 0 asphalt
        inside = ax < Xf
        code[inside & (ax >= W2)] = 1  # kerb top
        code[inside & (ax >= W2 + 0.2)] = 3  # pavement
        code[(ax >= W2) & (ax < W2 + 0.035)] = 2  # kerb face
        sl = sc["slab"]
        lw = 0.035 / sl
        gx = np.abs(((ax - W2 - 0.2) / sl + 0.5) % 1.0 - 0.5)
        gz = np.abs((Z / sl + 0.5) % 1.0 - 0.5)
        code[(code == 3) & ((gx < lw) | (gz < lw)) & (t < 35)] = 4  # slab joints
        paint = np.zeros(X.shape, bool)
        if sc["centre_line"]:
            paint |= (np.abs(X) < 0.07) & ((Z % 9.0) < 3.2)
        if sc["edge_lines"]:
            paint |= np.abs(ax - (W2 - 2.1)) < 0.06
        if sc["zebra"] is not None:
            z0 = sc["zebra"]
            paint |= (Z > z0) & (Z < z0 + 3.5) & (ax < W2 - 0.3) & ((X % 1.1) < 0.55)
        code[paint & (ax < W2)] = 5
        pal = np.stack(
            [
                sc["asphalt"],
                sc["kerb"],
                sc["kerb"] * 0.55,
                sc["pave"],
                sc["pave"] * 0.8,
                np.array([214, 214, 208], np.float32),
            ]
        ).astype(np.float32)
        amp = np.array([0.22, 0.1, 0.1, 0.12, 0.12, 0.2], np.float32)[code]
        self.g_alb = pal[code]
        grain = tex_rng.random(X.shape, dtype=np.float32) - 0.5
        self.g_tex = 1 + (fine * 0.25 + grain) * amp * near + 0.015 * big

    def building_shadow(self, side_sun: int, Zq: np.ndarray, d: np.ndarray) -> np.ndarray:
        """Height of the sun-side facade at Zq (0 where no building)."""
        blocks = self.sc["blocks"][side_sun]
        z0 = self._bz0[side_sun]
        k = np.clip(np.searchsorted(z0, Zq, side="right") - 1, 0, len(blocks) - 1)
        H = self._bH[side_sun][k]
        H = np.where((Zq < z0[0]) | (Zq > self._bz1[side_sun][-1]), 0.0, H)
        return H

    def ground_shadow(self) -> None:
        sc = self.sc
        sun = sc["sun"]
        lx, lz = sun[0] / math.cos(sc["el"]), sun[2] / math.cos(sc["el"])
        X, Z = self.gX, self.gZ
        sh = np.zeros(X.shape, np.float32)
        if abs(lx) > 0.05:
            side_sun = 1 if lx > 0 else -1
            Xp = side_sun * sc["Xf"]
            d = (Xp - X) / lx
            ok = (d > 0) & (np.abs(X) < sc["Xf"])
            Zh = Z + d * lz
            Yh = d * self.tan_el
            H = self.building_shadow(side_sun, Zh.astype(np.float32), d)
            sh = (ok & (H > Yh)).astype(np.float32)
        self.g_bshadow = sh

    def facades(self) -> None:
        sc, S = self.sc, self.S
        a = (np.arange(S, dtype=np.float32) + 0.5 - self.u0) / self.f
        b = (self.v0 - (np.arange(S, dtype=np.float32) + 0.5)) / self.f
        den = self.c * a + self.s
        sun = sc["sun"]
        lx = sun[0] / max(math.cos(sc["el"]), 1e-3)
        lz = sun[2] / max(math.cos(sc["el"]), 1e-3)
        curtain = np.array([200, 190, 170], np.float32)
        for side in (-1, 1):
            cols = np.nonzero(den * side > 1e-4)[0]
            if len(cols) == 0:
                continue
            c0, c1 = int(cols[0]), int(cols[-1]) + 1  # contiguous: den is monotonic in the column
            Xp = side * sc["Xf"]
            t = ((Xp - self.cx) / den[c0:c1]).astype(np.float32)
            Z = (t * (-self.s * a[c0:c1] + self.c)).astype(np.float32)
            blocks = sc["blocks"][side]
            z0s = self._bz0[side]
            k = np.clip(np.searchsorted(z0s, Z, side="right") - 1, 0, len(blocks) - 1)
            valid_col = (Z > z0s[0]) & (Z < self._bz1[side][-1])
            H = np.where(valid_col, self._bH[side][k], 0.0).astype(np.float32)
            # rows that can hold any facade pixel: 0 <= Y < max H
            Hmax = float(H.max())
            if Hmax <= 0:
                continue
            tmin, tmax = float(t.min()), float(t.max())
            # Y = h + b t  ->  b in [(0 - h)/t, (Hmax - h)/t]
            blo = min(-self.h / tmin, -self.h / tmax)
            bhi = max((Hmax - self.h) / tmin, (Hmax - self.h) / tmax)
            rows = np.nonzero((b >= blo - 1e-6) & (b <= bhi + 1e-6))[0]
            if len(rows) == 0:
                continue
            r0, r1 = int(rows[0]), int(rows[-1]) + 1
            Y = self.h + b[r0:r1, None] * t[None, :]
            m = (Y >= 0) & (Y < H[None, :])
            if not m.any():
                continue
            P = self._bparams[side]
            s = Z - z0s[k]
            blen = self._bz1[side][k] - z0s[k]
            pw, ww, wh = P["pw"][k], P["ww"][k], P["wh"][k]
            fh, gh = P["fh"][k], P["gh"][k]
            shop = P["shop"][k]
            nwin = np.maximum(np.floor((blen - 1.0) / pw), 1)
            off = (blen - nwin * pw) / 2
            q = (s - off) / pw
            wi = np.floor(q)
            fq = q - wi
            in_run = (wi >= 0) & (wi < nwin)
            colw = in_run & (np.abs(fq - 0.5) < ww / 2)
            colf = in_run & (np.abs(fq - 0.5) < ww / 2 + 0.05)
            dZ = np.abs(np.gradient(Z)) if len(Z) > 1 else np.ones_like(Z)
            detail = np.clip((pw * ww * 0.5 - dZ) / (pw * ww * 0.25 + 1e-6), 0, 1)
            gq = (Y - gh) / fh
            fl = np.floor(gq)
            fy = gq - fl
            ady = np.abs(fy - 0.5)
            upper = (Y >= gh) & (Y < H - 0.9)
            code = np.zeros(Y.shape, np.uint8)  # 0 wall
            code[upper & (fy < 0.05)] = 1  # ledge
            code[(Y >= H - 0.9)] = 2  # cornice
            code[(Y >= H - 0.35)] = 3
            code[upper & colf & (ady < wh / 2 + 0.04)] = 4  # frame
            win = upper & colw & (ady < wh / 2)
            hsh = (wi.astype(np.int64)[None, :] * 7919 + fl.astype(np.int64) * 104729 + P["hash"][k][None, :]) % 997
            var = (hsh / 997.0).astype(np.float32)
            code[win] = 5
            code[win & (var > 0.82)] = 9  # curtains
            gf = Y < gh
            shopc = shop & gf
            pill = (np.abs(fq - 0.5) > 0.42) | ~in_run
            sfront = shopc & ~pill & (Y > 0.35) & (Y < gh - 0.75)
            code[sfront] = 6
            band = shopc & (Y >= gh - 0.7) & (Y < gh - 0.12) & in_run
            code[band] = 7
            lq = np.floor(s / 0.32).astype(np.int64)
            letter = ((lq * 2654435761 + P["hash"][k]) % 5 > 1) & (np.abs(fq - 0.5) < 0.32)
            code[band & letter & (np.abs(Y - (gh - 0.41)) < 0.14)] = 8
            plain = ~shop & gf & colw & (Y > 0.9) & (Y < gh - 0.5)
            code[plain] = 5
            wall, glass, frame = P["col"][k], P["glass"][k], P["frame"][k]
            n = len(k)
            pal = np.stack(
                [
                    wall,
                    wall * 0.88,
                    wall * 1.06,
                    wall * 0.8,
                    frame,
                    glass,
                    glass,
                    P["sign"][k],
                    P["letter"][k],
                    np.broadcast_to(curtain, (n, 3)),
                ],
                1,
            )  # (n,10,3)
            idx = code.astype(np.int32) + (np.arange(n, dtype=np.int32) * 10)[None, :]
            img = pal.reshape(-1, 3)[idx]
            # brightness: glass variation, reveal shadow, shop-window reflections
            br = np.ones(Y.shape, np.float32)
            gsel = (code == 5) | (code == 9)
            br = np.where(gsel, 0.65 + 0.7 * var, br)
            br = np.where(gsel & (fy > 0.5 + wh / 2 - 0.12), br * 0.6, br)
            br = np.where(code == 6, 0.7 + 0.5 * ((s * 1.7 + Y * 0.4) % 1.0) ** 3, br)
            fade = detail < 1
            if fade.any():
                avg = wall * (1 - ww * wh)[:, None] * 0.9 + glass * (ww * wh)[:, None]
                dt = detail[fade][None, :, None]
                img[:, fade] = img[:, fade] * br[:, fade, None] * dt + avg[fade][None] * (1 - dt)
                br[:, fade] = 1
            # light: lambert + the shadow cast by the opposite (sun-side) facade
            nrm = np.array([-side, 0, 0], np.float32)
            lam = max(0.0, float(np.dot(nrm, sun)))
            lit = sc["amb"] + sc["dir"] * lam
            light = np.full(Y.shape, lit, np.float32)
            if lam > 0 and abs(lx) > 0.05:
                d = 2 * sc["Xf"] / abs(lx)
                Hs = self.building_shadow(-side, (Z + d * lz).astype(np.float32), None)
                shd = (Y + d * self.tan_el) < Hs[None, :]
                light[shd] = sc["amb"] + sc["dir"] * lam * (1 - sc["shadow"])
            light *= br * (0.9 + 0.1 * np.clip(Y / 3.0, 0, 1))
            hz = (1 - np.exp(-np.maximum(t, 0) / sc["fog"])).astype(np.float32)
            img *= (light * (1 - hz))[..., None]
            img += hz[None, :, None] * self.haze_col
            np.copyto(self.img[r0:r1, c0:c1], img, where=m[..., None])

    def awnings_and_signs(self) -> None:
        sc = self.sc
        for side in (-1, 1):
            Xp = side * sc["Xf"]
            for blk in sc["blocks"][side]:
                if blk["H"] <= 0 or blk["z1"] < 0.5 or blk["z0"] > 200:
                    continue
                gh = blk["gh"]
                if blk["awning"] is not None:
                    col, striped = blk["awning"]
                    za, zb = blk["z0"] + 0.6, blk["z1"] - 0.6
                    depth = 1.2
                    y_top, y_bot = gh - 0.1, gh - 0.75
                    zc = max(za, 0.5)
                    n_str = int((zb - za) / 0.5) if striped else 1
                    under = col * 0.55
                    for i in range(max(n_str, 1)):
                        z_a = za + (zb - za) * i / max(n_str, 1)
                        z_b = za + (zb - za) * (i + 1) / max(n_str, 1)
                        c = under if i % 2 == 0 else np.array([235, 232, 225], np.float32) * 0.55
                        cs = self.shade_col(c / max(sc["amb"] * 0.85, 1e-3) * 0.8, np.array([0, -1, 0]), zc)
                        self.fill(
                            [
                                (Xp, y_top, z_a),
                                (Xp, y_top, z_b),
                                (Xp - side * depth, y_bot, z_b),
                                (Xp - side * depth, y_bot, z_a),
                            ],
                            cs,
                        )
                    val = self.shade_col(col, np.array([-side, 0, 0], np.float32), zc)
                    self.fill(
                        [
                            (Xp - side * depth, y_bot, za),
                            (Xp - side * depth, y_bot, zb),
                            (Xp - side * depth, y_bot - 0.28, zb),
                            (Xp - side * depth, y_bot - 0.28, za),
                        ],
                        val,
                    )
                if blk["blade"] is not None and blk["H"] > gh + 2:
                    zb = blk["z0"] + 1.0
                    c = self.shade_col(blk["blade"], np.array([0, 0, -1], np.float32), zb)
                    self.fill(
                        [
                            (Xp, gh + 0.6, zb),
                            (Xp - side * 0.75, gh + 0.6, zb),
                            (Xp - side * 0.75, gh + 2.2, zb),
                            (Xp, gh + 2.2, zb),
                        ],
                        c,
                    )

    # ---- objects
    def draw_tree(self, tr: dict) -> None:
        sc, S = self.sc, self.S
        rng = np.random.default_rng(tr["seed"])
        X, Z, R, Rv, th = tr["X"], tr["Z"], tr["R"], tr["Rv"], tr["th"]
        cxn = X + tr["lean"]
        cy = th + Rv * 0.95
        centre = np.array([cxn, cy, Z], np.float32)
        cc = self.cam(centre[None])[0]
        if cc[2] < -R:
            return
        zc = max(float(cc[2]), _NEAR)
        hz = self.haze(zc)
        # trunk in two tones (lit and shaded halves), leaning slightly into the canopy
        bark = np.array([72, 62, 56], np.float32) * rng.uniform(0.85, 1.15)
        tw = 0.17 * R / 3.3 + 0.08
        top = th + Rv * 0.55
        ln = tr["lean"] * 0.3
        for half in (-1, 1):
            nrm = np.array([half * 0.8, 0, -0.6], np.float32)
            colr = self.shade_col(bark, nrm / np.linalg.norm(nrm), zc)
            if half < 0:
                P = [(X - tw, 0, Z), (X, 0, Z), (X + ln, top, Z), (X - tw * 0.6 + ln, top, Z)]
            else:
                P = [(X, 0, Z), (X + tw, 0, Z), (X + tw * 0.6 + ln, top, Z), (X + ln, top, Z)]
            self.fill(P, colr)
        # clumps of foliage in the canopy ellipsoid: large ones inside, small ones on the shell
        rn = R / max(float(cc[2]), 1.0) * sc["fn"]  # canopy radius / image width
        shrink = float(np.clip(0.1 / max(rn, 1e-3), 0.22, 1.0)) ** 0.8  # smaller clumps on near trees
        n = int(np.clip((40 + 900 * rn) / shrink**1.1, 40, 520))
        n_small = int(n * 0.6)
        dirs = rng.normal(size=(n + n_small, 3)).astype(np.float32)
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        rad = np.concatenate([rng.uniform(0.3, 0.92, n) ** 0.5, rng.uniform(0.86, 1.04, n_small)]).astype(np.float32)
        d = dirs * rad[:, None]
        d[:, 1] = np.where(d[:, 1] < -0.55, -0.55 - (d[:, 1] + 0.55) * 0.3, d[:, 1])  # pruned flat underside
        pos = centre + d * np.array([R, Rv, R], np.float32)
        size = np.concatenate([rng.uniform(0.14, 0.27, n), rng.uniform(0.06, 0.12, n_small)]).astype(np.float32)
        size *= R * shrink
        nrm = d / (np.linalg.norm(d, axis=1, keepdims=True) + 1e-6)
        lam = nrm @ sc["sun"]
        if sc["cloudy"]:
            shd = 0.52 + 0.2 * nrm[:, 1] + 0.06 * lam
        else:
            shd = 0.36 + 0.36 * np.clip(lam, -0.3, 1) + 0.12 * nrm[:, 1]
        shd = np.clip(shd + 0.3 * (rad - 0.8) + rng.normal(0, 0.06, len(shd)), 0.04, 0.95)
        tint = np.clip(rng.normal(0.5, 0.2, len(shd)), 0, 1)
        # branches (need the rng in a fixed order, so drawn up front)
        n_br = int(rng.integers(5, 9))
        base = np.array([X + ln, top - 0.3, Z], np.float32)
        segs = []
        for _ in range(n_br):
            dd = rng.normal(size=3).astype(np.float32)
            dd[1] = abs(dd[1]) * 1.2 + 0.3
            dd /= np.linalg.norm(dd)
            end = centre + dd * np.array([R, Rv, R], np.float32) * rng.uniform(0.55, 0.9)
            end[1] -= Rv * 0.3
            mid = (base + end) / 2 + rng.normal(0, 0.25, 3).astype(np.float32)
            segs.append((base, mid, 0.09 * R / 3.3 + 0.04))
            segs.append((mid, end, 0.05 * R / 3.3 + 0.02))
            for _ in range(2):
                tip = end + rng.normal(0, 0.5, 3).astype(np.float32) * np.array([R, Rv, R], np.float32) * 0.3
                segs.append((end, tip, 0.025))
        Pc = self.cam(pos)
        keep = Pc[:, 2] > _NEAR
        if not keep.any():
            return
        Pc, size, shd, tint = Pc[keep], size[keep], shd[keep], tint[keep]
        order = np.argsort(-Pc[:, 2])
        Pc, size, shd, tint = Pc[order], size[order], shd[order], tint[order]
        uv = self.proj(Pc)
        r = self.f * size / Pc[:, 2]
        # leaves almost at the lens would be huge blurry discs: leave them out
        on_screen = (uv > -r[:, None] - 2).all(1) & (uv < S + r[:, None] + 2).all(1)
        vis = (r >= 0.35) & ((Pc[:, 2] > 2.0) | (r < 0.08 * S)) & on_screen
        hzv = int(round(hz * 255))
        hl = self.hl_dir
        o1 = hl[None, :] * (r * 0.24)[:, None]
        o2 = hl[None, :] * (r * 0.45)[:, None]
        q0 = np.round(uv * _ONE).astype(np.int32)
        q1 = np.round((uv + o1) * _ONE).astype(np.int32)
        q2 = np.round((uv + o2) * _ONE).astype(np.int32)
        R0 = np.maximum(np.round(r * _ONE), 1).astype(np.int32)
        R1 = np.round(r * 0.74 * _ONE).astype(np.int32)
        R2 = np.round(r * 0.36 * _ONE).astype(np.int32)
        s0 = np.clip(shd * 255 * 0.62, 1, 255).astype(np.int32)
        s1 = np.clip(shd * 255, 1, 255).astype(np.int32)
        s2 = np.clip(shd * 255 * 1.15 + 14, 1, 255).astype(np.int32)
        ti = (tint * 255).astype(np.int32)
        cb = self.cbuf
        split = int(np.searchsorted(-Pc[:, 2], -cc[2]))
        cols = (vis, q0, q1, q2, R0, R1, R2, s0, s1, s2, ti, r)
        rows = list(zip(*(c.tolist() for c in cols), strict=True))
        circle = cv2.circle

        def clusters(rs):
            for vv, a0, a1, a2, rr0, rr1, rr2, v0, v1, v2, t, rp in rs:
                if not vv:
                    continue
                circle(cb, a0, rr0, (v0, t, _L_LEAF, hzv), -1, cv2.LINE_8, _SH)
                if rp > 1.0:
                    circle(cb, a1, rr1, (v1, t, _L_LEAF, hzv), -1, cv2.LINE_8, _SH)
                    if rp > 3.0:
                        circle(cb, a2, rr2, (v2, t, _L_LEAF, hzv), -1, cv2.LINE_8, _SH)

        clusters(rows[:split])
        # branches after the back half of the canopy, before the front half
        p0 = np.stack([sg[0] for sg in segs])
        p1 = np.stack([sg[1] for sg in segs])
        w = np.array([sg[2] for sg in segs], np.float32)
        c0, c1 = self.cam(p0), self.cam(p1)
        ok = (c0[:, 2] > _NEAR) & (c1[:, 2] > _NEAR)
        if ok.any():
            q0, q1 = self.proj(c0[ok]), self.proj(c1[ok])
            thick = np.maximum(1, np.round(self.f * w[ok] * 2 / (c0[ok, 2] + c1[ok, 2]))).astype(int)
            allq = np.concatenate([q0, q1])
            pad = int(thick.max()) + 2
            x0 = int(np.clip(np.floor(allq[:, 0].min()) - pad, 0, S))
            x1 = int(np.clip(np.ceil(allq[:, 0].max()) + pad, 0, S))
            y0 = int(np.clip(np.floor(allq[:, 1].min()) - pad, 0, S))
            y1 = int(np.clip(np.ceil(allq[:, 1].max()) + pad, 0, S))
            if x1 > x0 and y1 > y0:
                bm = np.zeros((y1 - y0, x1 - x0), np.uint8)
                off = np.array([x0, y0], np.float64)
                e0 = np.round((q0 - off) * _ONE).astype(np.int32).tolist()
                e1 = np.round((q1 - off) * _ONE).astype(np.int32).tolist()
                for a, b, tk in zip(e0, e1, thick.tolist(), strict=True):
                    cv2.line(bm, a, b, 1, tk, cv2.LINE_8, _SH)
                # branches show only inside the foliage drawn so far, never against the sky
                sub = cb[y0:y1, x0:x1]
                sel = (bm > 0) & (sub[..., 2] == _L_LEAF)
                sub[sel] = (30, 0, _L_BRANCH, hzv)
        clusters(rows[split:])

    def tree_shadow(self, tr: dict) -> None:
        sc = self.sc
        sun = sc["sun"]
        ce = math.cos(sc["el"])
        sx, sz = -sun[0] / max(sun[1], 0.2), -sun[2] / max(sun[1], 0.2)
        R, Rv, th = tr["R"], tr["Rv"], tr["th"]
        cy = th + Rv * 0.95
        cxn = tr["X"] + tr["lean"]
        gc = np.array([cxn + cy * sx, 0.0, tr["Z"] + cy * sz], np.float32)
        # ellipse stretched along the sun's horizontal direction
        hd = np.array([sun[0], 0, sun[2]], np.float32) / max(ce, 1e-3)
        pd = np.array([-hd[2], 0, hd[0]], np.float32)
        stretch = min(1.0 / max(sun[1], 0.3), 2.2)
        t = np.linspace(0, 2 * np.pi, 18, endpoint=False)[:, None]
        rng = np.random.default_rng(tr["seed"] + 1)
        rr = R * 0.85 * (1 + 0.12 * rng.standard_normal((18, 1)))
        P = gc + rr * (np.cos(t) * hd * stretch + np.sin(t) * pd)
        pts = self.poly(P)
        if pts is not None:
            cv2.fillPoly(self.shadow, [pts], 255, cv2.LINE_8, _SH)
        # trunk
        tw = 0.2
        P = np.array(
            [
                (tr["X"] - tw * pd[0], 0, tr["Z"] - tw * pd[2]),
                (tr["X"] + tw * pd[0], 0, tr["Z"] + tw * pd[2]),
                (tr["X"] + th * sx, 0, tr["Z"] + th * sz),
            ],
            np.float32,
        )
        pts = self.poly(P)
        if pts is not None:
            cv2.fillPoly(self.shadow, [pts], 255, cv2.LINE_8, _SH)

    def car_shadow(self, car: dict) -> None:
        sun = self.sc["sun"]
        sx, sz = -sun[0] / max(sun[1], 0.25), -sun[2] / max(sun[1], 0.25)
        x0, x1 = car["X"] - car["W"] / 2 - 0.05, car["X"] + car["W"] / 2 + 0.05
        z0, z1 = car["z0"] - 0.05, car["z0"] + car["L"] + 0.05
        hgt = car["H"] * 0.75
        pts_a = np.array([(x0, z0), (x1, z0), (x1, z1), (x0, z1)], np.float32)
        pts_b = pts_a + np.array([sx, sz], np.float32) * hgt
        allp = np.concatenate([pts_a, pts_b])
        hull = cv2.convexHull(allp).reshape(-1, 2)
        P = np.stack([hull[:, 0], np.zeros(len(hull), np.float32), hull[:, 1]], 1)
        pts = self.poly(P)
        if pts is not None:
            cv2.fillPoly(self.shadow, [pts], 255, cv2.LINE_8, _SH)

    def lamp_shadow(self, lp: dict) -> None:
        sun = self.sc["sun"]
        sx, sz = -sun[0] / max(sun[1], 0.2), -sun[2] / max(sun[1], 0.2)
        X, Z, H = lp["X"], lp["Z"], lp["H"]
        P = np.array(
            [
                (X - 0.08, 0, Z),
                (X + 0.08, 0, Z),
                (X + 0.06 + H * sx, 0, Z + H * sz),
                (X - 0.06 + H * sx, 0, Z + H * sz),
            ],
            np.float32,
        )
        pts = self.poly(P)
        if pts is not None:
            cv2.fillPoly(self.shadow, [pts], 200, cv2.LINE_8, _SH)

    def draw_lamp(self, lp: dict) -> None:
        X, Z, H, side, col = lp["X"], lp["Z"], lp["H"], lp["side"], lp["col"]
        zc = Z
        c1 = self.shade_col(col, np.array([0, 0, -1], np.float32), zc)
        self.fill([(X - 0.07, 0, Z), (X + 0.07, 0, Z), (X + 0.05, H, Z), (X - 0.05, H, Z)], c1)
        self.fill([(X - 0.12, 0, Z), (X + 0.12, 0, Z), (X + 0.1, 0.5, Z), (X - 0.1, 0.5, Z)], c1 * 0.9)
        xe = X - side * 1.4
        self.fill([(X, H - 0.1, Z), (xe, H + 0.1, Z), (xe, H + 0.2, Z), (X, H, Z)], c1)
        self.fill(
            [
                (xe - 0.35, H + 0.02, Z - 0.15),
                (xe + 0.35, H + 0.02, Z - 0.15),
                (xe + 0.3, H + 0.2, Z - 0.15),
                (xe - 0.3, H + 0.2, Z - 0.15),
            ],
            c1 * 1.1,
        )
        self.fill(
            [
                (xe - 0.3, H - 0.04, Z - 0.15),
                (xe + 0.3, H - 0.04, Z - 0.15),
                (xe + 0.3, H + 0.02, Z - 0.15),
                (xe - 0.3, H + 0.02, Z - 0.15),
            ],
            np.array([220, 220, 210], np.float32) * 0.9,
        )

    def draw_car(self, car: dict) -> None:
        X, z0, L, Wd, H = car["X"], car["z0"], car["L"], car["W"], car["H"]
        rgb, facing, kind = car["rgb"], car["facing"], car["kind"]
        z1 = z0 + L
        x0, x1 = X - Wd / 2, X + Wd / 2
        cx, ch = self.cx, self.h
        zc = max(z0, 0.5)
        px = self.f * Wd / max(z0 + 0.5, 0.5)  # rough projected width in pixels
        detailed = px > 10
        glass = np.array([38, 44, 52], np.float32)
        yb0, yb1 = 0.3, (0.95 if kind != "van" else 1.05)
        if kind == "van":
            near_in, far_in = (0.25, 0.9) if facing > 0 else (0.9, 0.25)
        elif kind == "kei":
            near_in, far_in = (0.25, 0.55) if facing > 0 else (0.55, 0.25)
        else:
            near_in, far_in = (0.55, 1.25) if facing > 0 else (1.25, 0.55)
        slope_n = 0.3 if kind in ("van", "kei") else 0.55
        slope_f = 0.35 if kind in ("van", "kei") else 0.55
        cols: dict = {}

        def col(base, nrm, spec):
            key = (id(base), nrm, spec)
            if key not in cols:
                cols[key] = self.shade_col(base, np.array(nrm, np.float32), zc, spec)
            return cols[key]

        def face(P, base_col, spec=0.0, glass_inset=None):
            (ax, ay, az), (bx, by, bz), (qx, qy, qz) = P[0], P[1], P[2]
            ux, uy, uz = bx - ax, by - ay, bz - az
            vx, vy, vz = qx - ax, qy - ay, qz - az
            nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
            nn = math.sqrt(nx * nx + ny * ny + nz * nz) + 1e-9
            nx, ny, nz = nx / nn, ny / nn, nz / nn
            k = len(P)
            mx = sum(p[0] for p in P) / k
            my = sum(p[1] for p in P) / k
            mz = sum(p[2] for p in P) / k
            if nx * (cx - mx) + ny * (ch - my) + nz * (0 - mz) <= 0:
                return False
            nr = (round(nx, 2), round(ny, 2), round(nz, 2))
            self.fill(P, col(base_col, nr, spec))
            if glass_inset is not None and detailed:
                G = [
                    (mx + (p[0] - mx) * glass_inset, my + (p[1] - my) * glass_inset, mz + (p[2] - mz) * glass_inset)
                    for p in P
                ]
                self.fill(G, col(glass, nr, 0.6))
            return True

        tyre = np.array([22, 22, 24], np.float32)
        back = (0.0, 0.0, -1.0)
        # wheels and underbody visible below the body
        self.fill(
            [
                (x0 + 0.15, 0.02, z0 + 0.5),
                (x1 - 0.15, 0.02, z0 + 0.5),
                (x1 - 0.15, yb0, z0 + 0.5),
                (x0 + 0.15, yb0, z0 + 0.5),
            ],
            col(np.array([20, 20, 22], np.float32), back, 0.0),
        )
        for xw in (x0 + 0.02, x1 - 0.27):
            self.fill(
                [(xw, 0, z0 + 0.55), (xw + 0.25, 0, z0 + 0.55), (xw + 0.25, 0.62, z0 + 0.55), (xw, 0.62, z0 + 0.55)],
                col(tyre, back, 0.0),
            )
        # body: sides, near end, top
        sides_drawn = []
        if face([(x1, yb1, z0), (x1, yb1, z1), (x1, yb0, z1), (x1, yb0, z0)], rgb):
            sides_drawn.append((x1, 1))
        if face([(x0, yb0, z0), (x0, yb0, z1), (x0, yb1, z1), (x0, yb1, z0)], rgb):
            sides_drawn.append((x0, -1))
        face([(x0, yb0, z0), (x0, yb1, z0), (x1, yb1, z0), (x1, yb0, z0)], rgb)
        face([(x0, yb1, z0), (x0, yb1, z1), (x1, yb1, z1), (x1, yb1, z0)], rgb, 0.25)
        for xs, sgn in sides_drawn:
            for zw in (z0 + 0.8, z1 - 0.85):
                C = np.array([xs + sgn * 0.01, 0.33, zw], np.float32)
                P = self.circle_poly(C, 0.33, _E_Y, _E_Z, 14 if detailed else 8)
                self.fill(P, col(tyre, (float(sgn), 0.0, 0.0), 0.0))
                if detailed:
                    P = self.circle_poly(C + np.array([sgn * 0.01, 0, 0], np.float32), 0.18, _E_Y, _E_Z, 10)
                    self.fill(P, col(_HUB, (float(sgn), 0.0, 0.0), 0.0))
        # lights, plate, bumper on the near end
        if z0 > 0.4 and detailed:
            zf = z0 - 0.02
            self.fill(
                [(x0, yb0, zf), (x1, yb0, zf), (x1, yb0 + 0.14, zf), (x0, yb0 + 0.14, zf)],
                self.shade_col(rgb * 0.55 + 10, np.array(back), zc),
            )
            lc = _TAIL if facing > 0 else _HEAD
            lcol = self.shade_col(lc, np.array([0, 0.3, -1.0]), zc, 0.3)
            for xa in (x0 + 0.06, x1 - 0.36):
                self.fill(
                    [
                        (xa, yb1 - 0.28, zf),
                        (xa + 0.3, yb1 - 0.28, zf),
                        (xa + 0.3, yb1 - 0.12, zf),
                        (xa, yb1 - 0.12, zf),
                    ],
                    lcol,
                )
            if facing < 0:
                self.fill(
                    [
                        (X - 0.4, yb1 - 0.3, zf),
                        (X + 0.4, yb1 - 0.3, zf),
                        (X + 0.4, yb1 - 0.12, zf),
                        (X - 0.4, yb1 - 0.12, zf),
                    ],
                    col(_GRILLE, back, 0.0),
                )
            self.fill(
                [
                    (X - 0.26, yb0 + 0.18, zf),
                    (X + 0.26, yb0 + 0.18, zf),
                    (X + 0.26, yb0 + 0.31, zf),
                    (X - 0.26, yb0 + 0.31, zf),
                ],
                col(_PLATE, back, 0.0),
            )
        # cabin
        ci0, ci1 = 0.08, 0.2
        za, zb = z0 + near_in, z1 - far_in
        zta, ztb = za + slope_n, zb - slope_f
        B = [(x0 + ci0, yb1, za), (x1 - ci0, yb1, za), (x1 - ci0, yb1, zb), (x0 + ci0, yb1, zb)]
        T = [(x0 + ci1, H, zta), (x1 - ci1, H, zta), (x1 - ci1, H, ztb), (x0 + ci1, H, ztb)]
        face([B[0], T[0], T[1], B[1]], rgb, 0.1, 0.86)  # near window
        face([B[3], B[2], T[2], T[3]], rgb, 0.1, 0.86)  # far window
        face([B[0], B[3], T[3], T[0]], rgb, 0.1, 0.82)  # left side windows
        face([B[1], T[1], T[2], B[2]], rgb, 0.1, 0.82)  # right
        face([T[0], T[3], T[2], T[1]], rgb, 0.3)  # roof

    # ---- petals on the ground (blossom only; a layer in the canopy buffer)
    def petals(self, tr: dict) -> None:
        sc = self.sc
        if not sc["petals"]:
            return
        rng = np.random.default_rng(tr["seed"] + 2)
        n = int(420 * sc["petal_density"])
        # scatter around the tree, denser towards the kerb / gutter
        X0, Z0, R = tr["X"], tr["Z"], tr["R"] * 1.3
        ang = rng.uniform(0, 2 * np.pi, n)
        rr = R * np.sqrt(rng.uniform(0, 1, n))
        X = X0 + tr["lean"] + rr * np.cos(ang)
        Zs = Z0 + rr * np.sin(ang)
        gut = rng.random(n) < 0.4
        X = np.where(gut, np.sign(X0) * (sc["W2"] - rng.exponential(0.12, n)), X)
        P = np.stack([X, np.zeros(n), Zs], 1).astype(np.float32)
        Pc = self.cam(P)
        ok = (Pc[:, 2] > 0.8) & (np.abs(X) < sc["Xf"])
        if not ok.any():
            return
        Pc = Pc[ok]
        uv = self.proj(Pc)
        r = self.f * rng.uniform(0.01, 0.022, n)[ok] / Pc[:, 2]
        squash = np.clip(self.h / Pc[:, 2], 0.1, 1)
        tint = rng.integers(0, 256, n)[ok]
        S = self.S
        for (u, v), rad, sq, t in zip(uv, r, squash, tint, strict=True):
            if rad < 0.3 or u < -2 or u > S + 2 or v < 0 or v > S + 2:
                continue
            cv2.ellipse(
                self.cbuf,
                (int(u * _ONE), int(v * _ONE)),
                (max(int(rad * _ONE), _ONE // 2), max(int(rad * sq * _ONE), _ONE // 2)),
                0,
                0,
                360,
                (200, int(t), _L_PETAL, 0),
                -1,
                cv2.LINE_8,
                _SH,
            )

    # ---- everything
    def draw(self, tex_rng) -> None:
        sc = self.sc
        self._bz0, self._bz1, self._bH, self._bparams = {}, {}, {}, {}
        for side in (-1, 1):
            bl = sc["blocks"][side]
            self._bz0[side] = np.array([b["z0"] for b in bl], np.float32)
            self._bz1[side] = np.array([b["z1"] for b in bl], np.float32)
            self._bH[side] = np.array([b["H"] for b in bl], np.float32)
            self._bparams[side] = {
                key: np.array([b[key] for b in bl], np.float32)
                for key in ("pw", "ww", "wh", "fh", "gh", "col", "glass", "frame", "sign", "letter")
            }
            self._bparams[side]["shop"] = np.array([b["shop"] for b in bl], bool)
            self._bparams[side]["hash"] = np.array([b["hash"] for b in bl], np.int64)
        self.sky()
        self.ground(tex_rng)
        self.ground_shadow()
        # object shadows on the ground
        for tr in sc["trees"]:
            self.tree_shadow(tr)
        for car in sc["cars"]:
            self.car_shadow(car)
        for lp in sc["lamps"]:
            self.lamp_shadow(lp)
        r0 = self.g_r0
        osh = self.shadow[r0:].astype(np.float32) / 255.0
        # dappled canopy shadow: holes of light through the leaves
        dapple = cv2.resize(
            tex_rng.random((self.S // 5 + 1, self.S // 5 + 1), dtype=np.float32),
            (self.S, self.S - r0),
            interpolation=cv2.INTER_LINEAR,
        )
        osh = osh * np.clip(0.55 + 0.7 * dapple, 0, 1)
        sh = np.maximum(self.g_bshadow, osh) * sc["shadow"]
        sun = sc["sun"]
        light = sc["amb"] + sc["dir"] * sun[1] * 1.1 * (1 - sh)
        self.g_light = light
        hz = 1 - np.exp(-self.g_t / sc["fog"])
        gcol = self.g_alb * (light * self.g_tex * (1 - hz))[..., None]
        gcol += hz[..., None] * self.haze_col
        self.img[r0:] = gcol
        self.g_hz = np.broadcast_to(hz, light.shape)
        self.facades()
        self.awnings_and_signs()
        for tr in sc["trees"]:
            self.petals(tr)
        # objects far to near
        objs = []
        for tr in sc["trees"]:
            objs.append((tr["Z"], 0, tr))
        for car in sc["cars"]:
            objs.append((car["z0"] + 0.3, 1, car))
        for lp in sc["lamps"]:
            objs.append((lp["Z"], 2, lp))
        objs.sort(key=lambda o: -o[0])
        for _, kind, o in objs:
            if kind == 0:
                self.draw_tree(o)
            elif kind == 1:
                if o["z0"] + o["L"] > 0.5:
                    self.draw_car(o)
            else:
                self.draw_lamp(o)


def _lerp3(s, dark, mid, light):
    s = s[..., None]
    lo = dark + (mid - dark) * np.clip(s * 2, 0, 1)
    hi = mid + (light - mid) * np.clip(s * 2 - 1, 0, 1)
    return np.where(s < 0.5, lo, hi)


_GD, _GM, _GL = (np.array(x, np.float32) for x in ((16, 34, 18), (50, 88, 38), (126, 158, 68)))
_YD, _YM, _YL = (np.array(x, np.float32) for x in ((32, 44, 16), (86, 114, 40), (178, 194, 92)))
_PD, _PM, _PL = (np.array(x, np.float32) for x in ((140, 96, 116), (226, 156, 186), (255, 224, 238)))
_WD, _WM, _WL = (np.array(x, np.float32) for x in ((140, 128, 136), (230, 212, 220), (255, 250, 250)))
_BRANCH = np.array([56, 44, 42], np.float32)
_NS, _NT = 64, 16  # LUT resolution: shade x tint


def _luts(sc: dict) -> tuple[np.ndarray, np.ndarray]:
    """Colour look-up tables (shade, tint) -> RGB for the summer foliage and for the blossom."""
    trees = sc["trees"]
    gt = float(np.mean([t["tint"] for t in trees])) if trees else 0.5
    pk = float(np.mean([t["pink"] for t in trees])) if trees else 0.5
    s = np.linspace(0, 1, _NS, dtype=np.float32)[:, None]
    t = np.linspace(0, 1, _NT, dtype=np.float32)[None, :]
    ty = np.clip(gt + (t - 0.5) * 0.8, 0, 1)[..., None]
    g = _lerp3(s + 0 * t, _GD, _GM, _GL) * (1 - ty) + _lerp3(s + 0 * t, _YD, _YM, _YL) * ty
    tp = np.clip(pk + (t - 0.5) * 0.7, 0, 1)[..., None]
    sb = np.clip(s * 0.9 + 0.08, 0, 1) + 0 * t
    b = _lerp3(sb, _WD, _WM, _WL) * (1 - tp) + _lerp3(sb, _PD, _PM, _PL) * tp
    return g.astype(np.float32), b.astype(np.float32)


def _compose(cv: _Canvas, tex_rng) -> tuple[np.ndarray, np.ndarray]:
    sc, S = cv.sc, cv.S
    base = cv.img
    cb = cv.cbuf
    layer = cb[..., 2]
    green = base.copy()
    blossom = base.copy()
    white = tex_rng.random((S, S), dtype=np.float32)
    blob = cv2.resize(
        tex_rng.random((S // 3 + 1, S // 3 + 1), dtype=np.float32), (S, S), interpolation=cv2.INTER_LINEAR
    )
    can = (layer == _L_LEAF) | (layer == _L_BRANCH)
    if can.any():
        clump = cv2.resize(
            tex_rng.random((S // 7 + 1, S // 7 + 1), dtype=np.float32), (S, S), interpolation=cv2.INTER_CUBIC
        )
        ii = np.nonzero(can)
        wn, bn = white[ii], blob[ii]
        fn = np.clip((0.42 * wn + 0.36 * bn + 0.22 * clump[ii] - 0.5) * 1.9 + 0.5, 0, 1)  # leaf texture
        shade = cb[..., 0][ii].astype(np.float32) * (1 / 255.0)
        ti = np.minimum(cb[..., 1][ii].astype(np.int32) * _NT // 256, _NT - 1)
        hz = (cb[..., 3][ii].astype(np.float32) * (1 / 255.0))[:, None]
        lg, lb = _luts(sc)
        sg = np.clip(shade * (0.4 + 1.05 * fn), 0, 1)
        g = lg[(sg * (_NS - 1)).astype(np.int32), ti]
        sbl = np.clip(shade * (0.5 + 0.9 * fn), 0, 1)
        tb = np.clip(ti + ((bn - 0.5) * 6).astype(np.int32), 0, _NT - 1)
        bl = lb[(sbl * (_NS - 1)).astype(np.int32), tb]
        # fresh leaves among the petals, dark twigs in the gaps, the branches themselves
        leafy = (bn > 0.8) & (wn > 0.5) & (fn > 0.4)
        bl[leafy] = bl[leafy] * 0.4 + g[leafy] * 0.75 + np.array([14, 22, 0], np.float32)
        gap = (bn * 0.5 + clump[ii] * 0.5 < 0.28) & (shade < 0.3)
        bl[gap] = bl[gap] * 0.6 + _BRANCH * 0.25
        twig = layer[ii] == _L_BRANCH
        bl[twig] = _BRANCH * (0.7 + 0.6 * shade[twig, None])
        li = sc["exposure"]
        hc = cv.haze_col * hz
        green[ii] = g * (li * (1 - hz)) + hc
        blossom[ii] = bl * (li * (1 - hz)) + hc
    pet = layer == _L_PETAL
    if pet.any():
        ii = np.nonzero(pet)
        r0 = cv.g_r0
        ok = ii[0] >= r0
        ii = (ii[0][ok], ii[1][ok])
        rows = ii[0] - r0
        lt = cv.g_light[rows, ii[1]][:, None]
        hz = cv.g_hz[rows, ii[1]][:, None]
        t = (cb[..., 1][ii].astype(np.float32) / 255.0)[:, None]
        pk = float(np.mean([x["pink"] for x in sc["trees"]])) if sc["trees"] else 0.5
        pc = np.array([250, 238, 242], np.float32) * (1 - pk * t) + np.array([236, 172, 196], np.float32) * pk * t
        pc = pc * lt * (0.85 + 0.2 * white[ii][:, None])
        blossom[ii] = pc * (1 - hz) + cv.haze_col * hz
    return green, blossom


def _finish(img: np.ndarray, size: int, sc: dict, vig: np.ndarray, noise: np.ndarray) -> np.ndarray:
    img = cv2.GaussianBlur(img, (3, 3), 0.55)
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    wb = np.array([1 + 0.04 * sc["warm"], 1.0, 1 - 0.04 * sc["warm"]], np.float32) * sc["exposure"]
    img = img * wb * vig
    # soft shoulder: highlights roll off instead of clipping
    hi = img > 200.0
    img = np.where(hi, 200.0 + 55.0 * (1 - np.exp(-(img - 200.0) / 55.0)), img)
    img = img + noise
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def render(seed: int, size: int = 256) -> tuple[Image.Image, Image.Image, np.ndarray]:
    """(green, blossom, canopy) for one street scene: RGB images size x size, and a bool mask (size, size) of every
    pixel the season changes."""
    size = int(size)
    if size < 16:
        raise ValueError(f"render: size must be >= 16, got {size}")
    sc = _scene(seed)
    S = 2 * size
    tex_rng = np.random.default_rng([seed, 7, size])
    cv = _Canvas(sc, S)
    cv.draw(tex_rng)
    g, b = _compose(cv, tex_rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    r2 = (((xx + 0.5) / size - 0.5) ** 2 + ((yy + 0.5) / size - 0.5) ** 2) / 0.5
    vig = (1 - sc["vignette"] * r2**1.2)[..., None].astype(np.float32)
    nrng = np.random.default_rng([seed, 11, size])
    sig = sc["noise"]
    noise = (nrng.normal(0, sig, (size, size, 3)) + nrng.normal(0, sig * 0.6, (size, size, 1))).astype(np.float32)
    g8 = _finish(g, size, sc, vig, noise)
    b8 = _finish(b, size, sc, vig, noise)
    canopy = (g8 != b8).any(-1)
    return Image.fromarray(g8, "RGB"), Image.fromarray(b8, "RGB"), canopy
