"""Result pages generated from a seed, for the scraper sweep: every page a Google- or Bing-like replica that varies
what real engines vary, served on 127.0.0.1 by one handler (the query text names the page).

Varied per seed: engine, number of results, first-batch and batch size, tile size against the window (the first
batch may fit the window, so scrolling moves nothing), how more results load (scroll event, IntersectionObserver
sentinel, "more" button, wheel, End key, scroll then button), the server's delay, where the originals are (embedded
JSON, JSON for the first batch only, preview panel only, thumbnails only, or only in the responses of the page's own
fetch() that the page keeps to itself: for the later batches or for every batch), how those responses are framed
(an anti-hijacking prefix, length-prefixed chunks, JSON in a JSON string), where embedded JSON sits (a script, a
template, a noscript, a hidden text node), the JSON's escaping depth (array literal, JSON in a JS string, JSON in a
JSON string, that again in a JS string), Google's \\u003d escapes, whitespace, where page URL and title sit in a
record (or nowhere: then only the tile links its page and names it in its alt text, and the preview panel may show
only the image), tile and panel markup generations (one the scraper has no selector for), lazy `data-src`
thumbnails, consent variants, originals shown under several thumbnails, and originals that are not images.
`PageSpec.unknown_control(seed)` draws a page whose "more results" control has markup, class, id and label (English,
Korean or Japanese) the scraper has no selector for, later batches by the page's own POSTs, an end message, and a
decoy "more" menu button above the results.
"""

from __future__ import annotations

import html
import json
import random
import string
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlsplit

from tests.support.handlers import QuietHandler
from tests.support.scraper_images import TINY_PNG_DATA_URI, image_bytes

WINDOWS = ((1366, 900), (800, 600), (1920, 1080), (412, 915))
TILES = ((120, 90), (120, 90), (200, 400), (260, 200))
LOADINGS = ("scroll", "observer", "button", "wheel", "key", "scroll+button")
CONSENTS = ("none", "redirect", "reject_only", "aria", "overlay")
THUMB_MARK = "encrypted-tbn0"  # in a path, so the scraper takes these local thumbnails for engine thumbnails
NETWORK = ("network", "network_only")  # data that only the page's own fetch() responses hold
WIRES = ("prefix", "chunked", "prefix+chunked", "prefix+nested", "chunked+nested", "prefix+chunked+nested")
HOLDERS = ("script", "script", "template", "noscript", "text")
CONTROLS = ("input", "button", "div", "a", "icon")
CONTROL_LABELS = {
    "en": ("Show more results", "More results", "See more images", "LOAD MORE", "  Show   more  "),
    "ko": ("결과 더보기", "더보기", "이미지 더 보기"),
    "ja": ("もっと見る", "その他の結果を表示", "さらに表示"),
}
END_TEXTS = {
    "en": ("Looks like you've reached the end", "No more results"),
    "ko": ("결과가 더 이상 없습니다", "마지막 결과입니다"),
    "ja": ("これ以上結果はありません", "検索結果の最後です"),
}
DECOY_LABELS = {"en": "More", "ko": "더보기", "ja": "もっと見る"}


@dataclass(frozen=True)
class PageSpec:
    """One generated result page. `origins[i]` is the original shown by tile i (a repeat: the same original under
    several thumbnails); originals whose index is in `broken` are not images."""

    name: str
    engine: str = "google"
    n: int = 60
    first: int = 20
    batch: int = 20
    tile: tuple[int, int] = (200, 400)
    window: tuple[int, int] = (1366, 900)
    loading: str = "scroll"
    delay_ms: int = 150  # the page's own delay before showing a batch it received
    server_delay_ms: int = 0  # the server's delay before answering for more results
    data: str = "json"  # json | json_first | preview | thumbnails | network (later batches) | network_only
    wire: str = "prefix+chunked"  # framing of fetched batches (network data): prefix, chunked, nested, joined by +
    holder: str = "script"  # where embedded JSON sits: script | template | noscript | text (a hidden div)
    escape: int = 0  # 0..3
    google_escapes: bool = True
    spacing: str = "compact"  # compact | spaced | pretty
    meta: str = "2003"  # 2003 | list | dict | none: where page URL and title sit in a record (none: only on the tile)
    panel_provenance: bool = True  # the preview panel shows page URL and title (else only the image)
    tile_ids: bool = False  # tiles carry their record's doc id (data-tbnid), as Google's do
    tile_markup: int = 0
    preview_markup: int = 0
    lazy: bool = False
    consent: str = "none"
    cookie_honoured: bool = True
    origins: tuple[int, ...] = ()
    broken: frozenset[int] = field(default_factory=frozenset)
    asked: int = 60
    control: str = ""  # "": the usual <input class="mye4qd">; else a control of CONTROLS with the fields below
    control_class: str = "mye4qd"
    control_id: str = "more"
    control_label: str = "Show more"
    end_text: str = ""  # shown below the results once all have loaded
    post: bool = False  # later batches by POST
    decoy: str = ""  # the label of a "more" menu button above the results that loads nothing
    dead_control: bool = False  # the control shows but clicking it loads nothing

    @classmethod
    def unknown_control(cls, seed: int) -> PageSpec:
        """A page whose more-results control the scraper knows by no class: markup, class, id, label and language
        drawn from the seed; everything after the first batch (or the first three, then the control) comes by it."""
        rng = random.Random(f"control-{seed}")
        lang = rng.choice(tuple(CONTROL_LABELS))

        def token() -> str:
            return rng.choice(string.ascii_letters) + "".join(rng.choices(string.ascii_letters + string.digits, k=5))

        n = rng.randint(40, 120)
        origins = _origins(rng, n, dup_rate=rng.choice((0, 0.1)))
        broken = frozenset(j for j in range(len(set(origins))) if rng.random() < 0.1)
        return cls(
            name=f"control-{seed}", n=n, first=20, batch=rng.choice((20, 40)), tile=(120, 90),
            window=rng.choice(WINDOWS[:3]), loading=rng.choice(("button", "scroll+button")), delay_ms=100,
            data=rng.choice(("json", "network", "network_only")), wire=rng.choice(WIRES), origins=origins,
            broken=broken, asked=len(set(origins)), control=rng.choice(CONTROLS), control_class=token(),
            control_id=rng.choice(("", token())), control_label=rng.choice(CONTROL_LABELS[lang]),
            end_text=rng.choice(END_TEXTS[lang]), post=rng.random() < 0.7,
            decoy=DECOY_LABELS[lang] if rng.random() < 0.5 else "",
        )  # fmt: skip

    @classmethod
    def from_seed(cls, seed: int) -> PageSpec:
        """A page drawn at random from the variants above, the same for the same seed."""
        rng = random.Random(seed)
        engine = "bing" if rng.random() < 0.2 else "google"
        data = rng.choice(("json", "json", "json_first", "preview", "thumbnails") if engine == "google" else
                          ("json", "json", "preview"))  # fmt: skip
        n = rng.randint(8, 24) if data in ("preview", "json_first") else rng.randint(12, 70)
        origins = _origins(rng, n, dup_rate=rng.choice((0, 0, 0.1, 0.25)))
        unique = len(set(origins))
        broken = frozenset(j for j in range(unique) if rng.random() < rng.choice((0, 0.1, 0.2)))
        asked = rng.choice((unique, unique + rng.randint(3, 20), max(3, unique // 2)))
        drawn = dict(
            name=f"seed-{seed}", engine=engine, n=n, first=min(n, rng.choice((5, 10, 10, 20, 20, 35))),
            batch=rng.choice((10, 20, 30)), tile=rng.choice(TILES), window=rng.choice(WINDOWS),
            loading=rng.choice(LOADINGS if engine == "google" else LOADINGS[:2] + LOADINGS[3:5]),
            delay_ms=rng.choice((50, 150, 300)), data=data, escape=rng.randint(0, 3),
            google_escapes=rng.random() < 0.5, spacing=rng.choice(("compact", "spaced", "pretty")),
            meta=rng.choice(("2003", "2003", "list", "dict")), tile_markup=rng.randint(0, 3),
            preview_markup=rng.randint(0, 3), lazy=rng.random() < 0.3,
            consent=rng.choice(CONSENTS if engine == "google" else ("none", "overlay")),
            cookie_honoured=rng.random() < 0.5, origins=origins, broken=broken, asked=asked,
        )  # fmt: skip
        return cls(**{**drawn, **_later_variants(random.Random(f"later-{seed}"), engine, data)})

    def __post_init__(self) -> None:
        if not self.origins:
            object.__setattr__(self, "origins", tuple(range(self.n)))

    @property
    def first_batch_fits(self) -> bool:
        """True when the first batch does not fill the window: scrolling the window moves nothing."""
        per_row = max(1, self.window[0] // (self.tile[0] + 8))
        return -(-self.first // per_row) * (self.tile[1] + 8) + 120 < self.window[1]

    @property
    def unique(self) -> list[int]:
        """The originals in the order a reader of the page meets them."""
        return list(dict.fromkeys(self.origins))

    def offered(self) -> list[int]:
        """The originals a perfect scraper collects: the first `asked` distinct ones (none for thumbnails-only)."""
        return [] if self.data == "thumbnails" else self.unique[: self.asked]

    def image_path(self, j: int) -> str:
        kind = "bad" if j in self.broken else "img"
        return f"/{kind}/{self.name}/{j}.jpg?w=64&x=1"

    def page_path(self, j: int) -> str:
        return f"/page/{self.name}/{j}?ref=a&b=c"

    def title(self, j: int) -> str:
        return f'Street {j} of "{self.name}" & <b>벚꽃</b> \\ end'

    def thumb_path(self, i: int) -> str:
        return f"/{THUMB_MARK}/{self.name}/{i}.jpg"


def _later_variants(rng: random.Random, engine: str, data: str) -> dict:
    """Variants added later, drawn from their own generator so that the earlier ones keep their seeds: data held
    only by the page's own requests, their framing, where embedded JSON sits, provenance only on the tile."""
    if engine == "bing":
        return {"panel_provenance": rng.random() < 0.6}
    if data != "thumbnails" and rng.random() < 0.35:
        data = rng.choice(("network", "network", "network_only"))
    out = {"data": data, "wire": rng.choice(WIRES), "holder": rng.choice(HOLDERS),
           "panel_provenance": rng.random() < 0.6, "tile_ids": rng.random() < 0.5}  # fmt: skip
    if rng.random() < 0.25:
        out.update(meta="none", tile_ids=True)  # the record names neither page nor title; its tile does
    return out


def _origins(rng: random.Random, n: int, dup_rate: float) -> tuple[int, ...]:
    out: list[int] = []
    for i in range(n):
        if i and rng.random() < dup_rate:
            out.append(rng.choice(out))
        else:
            out.append(len(set(out)))
    return tuple(out)


# --- page parts -------------------------------------------------------------------------------------------------


def _record(spec: PageSpec, base: str, i: int) -> list:
    j = spec.origins[i]
    thumb = f"https://encrypted-tbn0.gstatic.com/images?q=tbn:{spec.name}-{i}&s=1"
    orig, page, title = base + spec.image_path(j), base + spec.page_path(j), spec.title(j)
    meta = {"2003": {"2003": [None, f"doc{i}", page, title, None, None]},
            "list": {"2008": [None, [0, [page, title]]]},
            "dict": {"9": {"url": page, "page_title": title, "n": 3}},
            "none": {"2003": [None, f"doc{i}", None, None, 7]}}[spec.meta]  # fmt: skip
    return [1, [0, doc_id(spec, i), [thumb, 194, 259], [orig, 48, 64], None, 0, "rgb(1,2,3)", None, 0, meta]]


def doc_id(spec: PageSpec, i: int) -> str:
    """The id of tile i's record (on the tile too when spec.tile_ids)."""
    return f"{spec.name}-id{i}"


def _json_text(spec: PageSpec, value) -> str:
    kw = {"compact": {"separators": (",", ":")}, "spaced": {"separators": (", ", ": ")},
          "pretty": {"indent": "\t"}}[spec.spacing]  # fmt: skip
    text = json.dumps(value, ensure_ascii=spec.google_escapes, **kw)
    return text.replace("=", "\\u003d").replace("&", "\\u0026") if spec.google_escapes else text


def _js_single_quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("</", "<\\/") + "'"


def _data_script(spec: PageSpec, base: str, start: int, stop: int) -> str:
    """The embedded result data for tiles [start, stop) at the spec's escaping depth, where the spec holds it."""
    data = _json_text(spec, [None, [_record(spec, base, i) for i in range(start, stop)]])
    if spec.holder != "script":  # text, not code: the JSON itself (escape 0) or inside a JSON string
        text = data if spec.escape == 0 else json.dumps([["wrb.fr", "HoAMBc", data, None]])
        if spec.holder == "noscript":  # raw text while scripts run, as in a script
            return "<noscript>" + text.replace("</", "<\\/") + "</noscript>"
        if spec.holder == "template":
            return f"<template>{html.escape(text)}</template>"
        return f'<div hidden class="d">{html.escape(text)}</div>'
    if spec.escape == 0:
        code = f"AF_initDataCallback({{key: 'ds:1', hash: '2', data:{data}, sideChannel: {{}}}});"
    elif spec.escape == 1:
        code = f"AF_initDataCallback({{key: 'ds:1', data:JSON.parse({_js_single_quoted(data)})}});"
    else:
        code = f"AF_initDataCallback({{key: 'ds:2', data:{json.dumps([['wrb.fr', 'HoAMBc', data, None]])}}});"
        if spec.escape == 3:
            code = f"window.__deferred = {json.dumps(code)};"
    return "<script>" + code.replace("</", "<\\/") + "</script>"


def wire_body(spec: PageSpec, base: str, start: int) -> str:
    """A batch as the page's own fetch() receives it: the tiles' HTML and, apart, the result data, framed as the
    spec says (`)]}'` first; length-prefixed chunks; the data as JSON in a JSON string)."""
    tiles, count = chunk(spec, base, start)
    data = [None, [_record(spec, base, i) for i in range(start, start + count)]]
    if "nested" in spec.wire:
        data = [["wrb.fr", "HoAMBc", json.dumps(data), None, None, "generic"]]
    parts = [_json_text(spec, {"html": tiles, "count": count}), _json_text(spec, data)]
    body = "".join(f"{len(p)}\n{p}\n" for p in parts) if "chunked" in spec.wire else f"[{','.join(parts)}]"
    return (")]}'\n" if "prefix" in spec.wire else "") + body


def _tile(spec: PageSpec, base: str, i: int) -> str:
    j = spec.origins[i]
    thumb = base + spec.thumb_path(i) if spec.data == "thumbnails" else TINY_PNG_DATA_URI
    src = f'src="{TINY_PNG_DATA_URI}" data-src="{thumb}"' if spec.lazy else f'src="{thumb}"'
    page, title = html.escape(base + spec.page_path(j)), html.escape(spec.title(j))
    ids = f' data-tbnid="{doc_id(spec, i)}"' if spec.tile_ids else ""
    img = f'<a href="{page}" tabindex="-1"{ids}><img {src} alt="{title}"></a>'
    if spec.engine == "bing":
        m = {"murl": base + spec.image_path(j), "purl": base + spec.page_path(j), "t": spec.title(j),
             "turl": f"https://tse1.mm.bing.net/th?id={spec.name}-{i}"}  # fmt: skip
        sep = {"compact": (",", ":"), "spaced": (", ", ": "), "pretty": (", ", ": ")}[spec.spacing]
        attr = f' m="{html.escape(json.dumps(m, separators=sep, ensure_ascii=False))}"' if spec.data == "json" else ""
        info = f'<div class="infopt"><a class="inflnk" href="{page}" aria-label="{title}">{title}</a></div>'  # as Bing
        tile = f'<a class="iusc"{attr} href="#"><img class="mimg" {src} alt="{title}"></a>'
        return f'<div class="imgpt">{tile}{info}</div>'
    yq, rg = img.replace("<img", '<img class="YQ4gaf"'), img.replace("<img", '<img class="rg_i Q4LuWd"')
    return [
        f'<div jsname="dTDiAc" class="t" data-ri="{i}">{yq}</div>',
        f'<div class="isv-r t" data-id="{i}">{rg}</div>',
        f'<div class="eA0Zlc t" data-docid="d{i}" data-lpage="{page}">{img}</div>',
        f'<div class="t q8" data-ri="{i}">{img}</div>',
    ][spec.tile_markup]


def chunk(spec: PageSpec, base: str, start: int) -> tuple[str, int]:
    """HTML of the tiles from `start` (the first batch when 0) and the number of tiles in it."""
    stop = min(spec.n, start + (spec.first if start == 0 else spec.batch))
    tiles = "".join(_tile(spec, base, i) for i in range(start, stop))
    with_data = spec.engine == "google" and (
        spec.data == "json" or (spec.data in ("json_first", "network") and start == 0)
    )
    return tiles + (_data_script(spec, base, start, stop) if with_data else ""), stop - start


PANELS = (
    '<a jsname="YKoRaf" href="#"><img jsname="kn3ccd" src=""></a><h1 jsname="tnbaSe" data-t></h1>',
    '<div jsname="figiqf"><img class="q9yqpb" src=""></div><a class="Hnk30e" href="#"><div class="indIKd" data-t>'
    "</div></a>",
    '<img class="sFlh5c pT0Scc iPVvYb" src=""><a class="eHAdSb" href="#"><h1 data-t></h1></a>',
    '<div class="v9xq"><img class="zz1" src=""></div><div class="m3"><a class="k7" href="#"><span>visit</span></a>'
    '<h2 class="hh" data-t></h2></div>',
)
BING_PANEL = '<div id="mainImageWindow"><img class="nofocus" src=""><a class="ptitle" href="#" data-t></a></div>'

_CONSENT_PAGE = {
    "redirect": '<button id="W0wltc" type="submit">Reject all</button><button id="L2AGLb" type="submit">Accept all'
    "</button>",
    "reject_only": '<button id="W0wltc" type="submit">Reject all</button>',
    "aria": '<button type="submit" aria-label="Accept all">Accept all</button>',
}
_OVERLAY = {
    "google": '<div id="cv" style="position:fixed;left:0;top:0;width:100%;height:100%;background:rgba(0,0,0,.4);'
    'z-index:100"><button id="L2AGLb" onclick="document.getElementById(\'cv\').remove()">Accept all</button></div>',
    "bing": '<div id="bnp_container" style="position:fixed;left:0;top:0;width:100%;height:100%;z-index:100;'
    'background:rgba(0,0,0,.3)"><button id="bnp_btn_accept" onclick="document.getElementById(\'bnp_container\')'
    '.remove()">Accept</button></div>',
}

_SCRIPT = """<script>
const Q = %(q)s, TOTAL = %(total)d, LOADING = %(loading)s, DELAY = %(delay)d, TILE = '.t, .imgpt';
const WIRE = %(wire)s, POST = %(post)s, DEAD = %(dead)s;
const KEPT = [];  // the page's own copy of fetched result data: never in the DOM
let loaded = %(first)d, loading = false, batches = 1;
function unwire(t) {
  if (WIRE.includes('prefix')) t = t.slice(t.indexOf('\\n') + 1);
  let parts = [];
  if (WIRE.includes('chunked')) {
    for (let p = 0; p < t.length;) {
      const nl = t.indexOf('\\n', p), len = parseInt(t.slice(p, nl), 10);
      parts.push(JSON.parse(t.substr(nl + 1, len)));
      p = nl + 1 + len + 1;
    }
  } else parts = JSON.parse(t);
  KEPT.push(WIRE.includes('nested') ? JSON.parse(parts[1][0][2]) : parts[1]);
  return parts[0];
}
const nearBottom = () => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 50;
const moreButton = document.querySelector(%(control_sel)s), endNote = document.querySelector('.end-note');
function showButton() {
  const on = loaded < TOTAL && (LOADING === 'button' || (LOADING === 'scroll+button' && batches >= 3));
  moreButton.style.display = on ? 'inline-block' : 'none';
  if (endNote) endNote.style.display = loaded >= TOTAL ? 'block' : 'none';
}
function more() {
  if (loading || loaded >= TOTAL) return;
  loading = true;
  const url = '/more?q=' + encodeURIComponent(Q) + '&start=' + loaded;
  fetch(url, POST ? {method: 'POST'} : {}).then(r => WIRE ? r.text().then(unwire) : r.json())
  .then(d => setTimeout(() => {
    const box = document.createElement('div'); box.innerHTML = d.html;
    box.querySelectorAll('script').forEach(s => { const n = document.createElement('script');
      n.textContent = s.textContent; s.replaceWith(n); });
    document.getElementById('grid').appendChild(box);
    loaded += d.count; batches += 1; loading = false; showButton();
  }, DELAY));
}
window.addEventListener('scroll', () => {
  if ((LOADING === 'scroll' || (LOADING === 'scroll+button' && batches < 3)) && nearBottom()) more(); });
window.addEventListener('wheel', () => { if (LOADING === 'wheel' && nearBottom()) more(); });
window.addEventListener('keydown', e => { if (LOADING === 'key' && e.key === 'End') more(); });
if (LOADING === 'observer') new IntersectionObserver(es => { if (es.some(e => e.isIntersecting)) more(); })
  .observe(document.getElementById('sentinel'));
moreButton.addEventListener('click', ev => { ev.preventDefault(); if (DEAD) return;
  moreButton.style.display = 'none'; more(); });
showButton();
if (loaded === 0) more();  // every batch by the page's own request
function AF_initDataCallback(x) {}
document.addEventListener('click', ev => {
  const tile = ev.target.closest(TILE);
  if (!tile) return;
  ev.preventDefault();
  const i = Array.from(document.querySelectorAll(TILE)).indexOf(tile), pv = document.getElementById('pv');
  pv.style.display = 'block';
  const img = pv.querySelector('img'), thumb = tile.querySelector('img');
  img.src = thumb.dataset.src || thumb.src;  // the thumbnail first, the original later
  fetch('/detail?q=' + encodeURIComponent(Q) + '&i=' + i).then(r => r.json()).then(d => setTimeout(() => {
    if (!d.url) return;  // thumbnails only: the panel keeps showing the thumbnail
    img.src = d.url;
    if (d.page) pv.querySelector('a').href = d.page;
    if (d.title) pv.querySelector('[data-t]').textContent = d.title;
  }, DELAY / 2));
}, true);
</script>"""


def page(spec: PageSpec, base: str) -> str:
    """The result page (its first batch, the loader script and the preview panel)."""
    first, count = ("", 0) if spec.data == "network_only" else chunk(spec, base, 0)
    tw, th = spec.tile
    panel = BING_PANEL if spec.engine == "bing" else PANELS[spec.preview_markup]
    script = _SCRIPT % {"q": json.dumps(spec.name), "total": spec.n, "loading": json.dumps(spec.loading),
                        "delay": spec.delay_ms, "first": count,
                        "wire": json.dumps(spec.wire if spec.data in NETWORK else ""), "post": json.dumps(spec.post),
                        "dead": json.dumps(spec.dead_control),
                        "control_sel": json.dumps(f".{spec.control_class}")}  # fmt: skip
    overlay = _OVERLAY[spec.engine] if spec.consent == "overlay" else ""
    decoy = f'<div class="nav"><div role="button" tabindex="0">{html.escape(spec.decoy)}</div></div>'
    decoy = decoy if spec.decoy else ""
    end = f'<div class="end-note" style="display:none">{html.escape(spec.end_text)}</div>' if spec.end_text else ""
    wrap = "GNJvt" if not spec.control else "c" + spec.control_class[::-1]
    more = _control(spec)
    return (
        f"<!DOCTYPE html><html><head><title>{html.escape(spec.name)}</title><style>"
        f".t, .imgpt {{ display: inline-block; width: {tw}px; height: {th}px; margin: 2px; overflow: hidden; }}"
        ".t img, .imgpt img { width: 100%; height: 70%; }"
        "#pv { position: fixed; right: 0; top: 0; width: 420px; height: 420px; background: #fff; z-index: 10; }"
        "#pv img { width: 320px; height: 240px; }</style></head>"
        f"<body>{overlay}{decoy}"
        f'<div id="grid">{first}</div><div id="sentinel" style="height:2px"></div>'
        f'<div class="{wrap}">{more}</div>{end}<div id="pv" style="display:none">{panel}</div>{script}</body></html>'
    )


def _control(spec: PageSpec) -> str:
    """The more-results control's markup (hidden until the page's script shows it)."""
    ids = f' id="{spec.control_id}"' if spec.control_id else ""
    attrs, label = f'{ids} class="{spec.control_class}" style="display:none"', html.escape(spec.control_label)
    return {
        "": f'<input{attrs} type="button" value="{label}">',
        "input": f'<input{attrs} type="button" value="{label}">',
        "button": f'<button{attrs} type="button"><span>{label}</span></button>',
        "div": f'<div{attrs} role="button" tabindex="0"><div><span>{label}</span></div></div>',
        "a": f'<a{attrs} href="#">{label}</a>',
        "icon": f'<span{attrs} role="button" tabindex="0" aria-label="{label}">&#8964;</span>',
    }[spec.control]


class VariedHandler(QuietHandler):
    """Serves the pages of `specs` (query text -> PageSpec, set by varied_handler) and their images."""

    protocol_version = "HTTP/1.1"
    specs: dict[str, PageSpec] = {}

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        args = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path, spec = parts.path, self.specs.get(args.get("q", ""))
        kind = path.strip("/").split("/")[0]
        if kind in ("img", THUMB_MARK):
            return self._send(200, image_bytes(path, (64, 48) if kind == "img" else (32, 24)), "image/jpeg")
        if kind == "bad":
            if int(path.rsplit("/", 1)[1].split(".")[0]) % 2:
                return self._send(404, b"gone", "text/plain")
            return self._send(200, b"<html><body>Access denied</body></html>", "image/jpeg")
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\n", "text/plain")
        if path in ("/search", "/images/search") and spec is not None:
            return self._search(spec)
        if path == "/more" and spec is not None:
            return self._more(spec, int(args["start"]))
        if path == "/detail" and spec is not None:
            return self._detail(spec, int(args["i"]))
        if path == "/consent/ui":
            return self._consent_page(args)
        return self._send(404, b"not found", "text/plain")

    def _more(self, spec: PageSpec, start: int) -> None:
        time.sleep(spec.server_delay_ms / 1000)
        if spec.data in NETWORK:
            return self._send(200, wire_body(spec, self.base, start).encode(), "application/json")
        body, count = chunk(spec, self.base, start)
        return self._send(200, json.dumps({"html": body, "count": count}).encode(), "application/json")

    def _search(self, spec: PageSpec) -> None:
        cookie = "SOCS=" in (self.headers.get("Cookie") or "")
        if spec.consent in _CONSENT_PAGE and not (cookie and spec.cookie_honoured) and "consented" not in self.path:
            target = "/consent/ui?kind=" + spec.consent + "&continue=" + quote(self.path + "&consented=1", safe="")
            return self._send(302, b"", headers={"Location": target})
        return self._send(200, page(spec, self.base).encode())

    def _detail(self, spec: PageSpec, i: int) -> None:
        j = spec.origins[i]
        data = {} if spec.data in ("thumbnails", *NETWORK) else {"url": self.base + spec.image_path(j)}  # the thumbnail
        if data and spec.panel_provenance:
            data.update(page=self.base + spec.page_path(j), title=spec.title(j))
        self._send(200, json.dumps(data).encode(), "application/json")

    def _consent_page(self, args: dict) -> None:
        cont = html.escape(args.get("continue", "/"))
        body = (f'<html><body><h1>Before you continue</h1><form action="/consent/save" method="post">'
                f'<input type="hidden" name="continue" value="{cont}">{_CONSENT_PAGE[args["kind"]]}</form>'
                "</body></html>")  # fmt: skip
        self._send(200, body.encode())

    def do_POST(self) -> None:  # noqa: N802 (the consent form, or more results for a page that posts for them)
        length = int(self.headers.get("Content-Length") or 0)
        parts = urlsplit(self.path)
        args = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/more" and (spec := self.specs.get(args.get("q", ""))) is not None and spec.post:
            self.rfile.read(length)
            return self._more(spec, int(args["start"]))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        headers = {"Location": form.get("continue", "/"), "Set-Cookie": "SOCS=CAESHAgBEhIaAB; Path=/"}
        self._send(303, b"", headers=headers)


def varied_handler(specs: dict[str, PageSpec] | None = None) -> type[VariedHandler]:
    """A handler class with its own page registry (add PageSpecs to `.specs` by name)."""
    return type("Varied", (VariedHandler,), {"specs": dict(specs or {})})
