"""Local replicas of the Google and Bing image-result pages (on 127.0.0.1) for the engine tests.

Google: results as AF_initDataCallback JSON triples plus tiles, more appended by JavaScript on scroll
and behind a "show more" control, a consent interstitial unless the SOCS cookie is set, a /sorry/ page,
and variants whose markup changed (only the preview click works) or that carry thumbnails only.
Bing: a.iusc tiles with a JSON `m` attribute, the same scrolling, a cookie banner, a challenge page.
"""

from __future__ import annotations

import hashlib
import html
import json
from urllib.parse import parse_qs, quote, urlsplit

from sakura.demo import google_record
from tests.support.handlers import QuietHandler
from tests.support.scraper_images import TINY_PNG_DATA_URI, image_bytes

PAGE = 20  # results per page load


def result_names(q: str, n: int) -> list[str]:
    """The image names behind a query's n results (distinct per query)."""
    tag = hashlib.sha1(q.encode()).hexdigest()[:8]
    return [f"{tag}-{i}" for i in range(n)]


class ReplicaHandler(QuietHandler):
    """Class attributes set by replica_handler(): engine, variant, n_results, consent, requests log."""

    protocol_version = "HTTP/1.1"
    engine = "google"
    variant = "json"  # json | changed | thumbs | empty
    n_results = 45
    consent = True
    block = "blockme"  # a query containing this gets the engine's unusual-traffic page
    log: list[str] = []

    def _redirect(self, location: str, headers=None) -> None:
        self._send(302, b"", headers={"Location": location, **(headers or {})})

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        args = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.log.append(self.path)
        path = parts.path
        if path.startswith("/img/") or path.startswith("/thumb/"):
            size = (64, 48) if path.startswith("/img/") else (32, 24)
            return self._send(200, image_bytes(path.rsplit("/", 1)[1].split(".")[0], size), "image/jpeg")
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\n", "text/plain")
        if self.engine == "google":
            return self._google(path, args)
        return self._bing(path, args)

    def do_POST(self) -> None:  # noqa: N802 (the consent form)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.log.append("POST " + self.path)
        cookie = "SOCS=CAESHAgBEhIaAB; Path=/"
        self._send(303, b"", headers={"Location": form.get("continue", "/"), "Set-Cookie": cookie})

    # --- Google -------------------------------------------------------------------------------------------
    def _google(self, path: str, args: dict) -> None:
        q = args.get("q", "")
        if path == "/search":
            if self.block and self.block in q:
                return self._redirect("/sorry/index?continue=" + quote(self.path, safe=""))
            if self.consent and "SOCS=" not in (self.headers.get("Cookie") or ""):
                return self._redirect("/consent/ui?continue=" + quote(self.path, safe=""))
            return self._send(200, self._google_page(q, args.get("hl", "")).encode())
        if path == "/more":
            start = int(args.get("start", "0"))
            return self._send(200, self._google_chunk(q, start).encode())
        if path == "/detail":
            return self._detail(q, int(args["i"]))
        if path.startswith("/sorry/"):
            body = (
                "<html><body><p>Our systems have detected unusual traffic from your computer network.</p>"
                '<form id="captcha-form" action="/sorry/index"><div id="recaptcha"></div></form></body></html>'
            )
            return self._send(429, body.encode())
        if path == "/consent/ui":
            cont = html.escape(args.get("continue", "/"))
            body = (
                '<html><body><h1>Before you continue to Google</h1><form action="/consent/save" method="post">'
                f'<input type="hidden" name="continue" value="{cont}"><button id="W0wltc" type="submit">Reject'
                '</button><button id="L2AGLb" type="submit" aria-label="Accept all">Accept all</button></form>'
                "</body></html>"
            )
            return self._send(200, body.encode())
        return self._send(404, b"not found")

    def _detail(self, q: str, i: int) -> None:
        name = result_names(q, self.n_results)[i]
        src = "google" if self.engine == "google" else "bing"  # the same URL layer 1 finds
        data = {"url": f"{self.base}/img/{name}.jpg?w=64&src={src}", "page": f"{self.base}/page/{name}",
                "title": f"Result {i}"}  # fmt: skip
        self._send(200, json.dumps(data).encode(), "application/json")

    def _google_tiles(self, q: str, start: int) -> str:
        names = result_names(q, self.n_results)[start : start + PAGE]
        if self.variant == "changed":  # old-style tile markup, new preview markup, no JSON triples
            return "".join(f'<div class="isv-r" data-ri="{start + k}"><img src="{TINY_PNG_DATA_URI}"></div>'
                           for k in range(len(names)))  # fmt: skip
        if self.variant == "thumbs":
            return "".join(f'<div jsname="dTDiAc" data-ri="{start + k}"><img src="{self.base}/thumb/{n}.jpg"></div>'
                           for k, n in enumerate(names))  # fmt: skip
        return "".join(f'<div jsname="dTDiAc" data-ri="{start + k}"><img class="YQ4gaf" src="{TINY_PNG_DATA_URI}">'
                       "</div>" for k in range(len(names)))  # fmt: skip

    def _google_json(self, q: str, start: int) -> str:
        if self.variant != "json":
            return ""
        entries = []
        for k, name in enumerate(result_names(q, self.n_results)[start : start + PAGE]):
            thumb = f"https://encrypted-tbn0.gstatic.com/images?q=tbn:ANd9Gc{name}&s=1"
            orig, page = f"{self.base}/img/{name}.jpg?w=64&src=google", f"{self.base}/page/{name}?from=g"
            entries.append(google_record(start + k, f"doc{k}", thumb, orig, page, f"Title {start + k} & more",
                                         thumb_px=(194, 259), orig_px=(48, 64)))  # fmt: skip
        return f"<script>AF_initDataCallback({{key: 'ds:1', data:[null,[{','.join(entries)}]]}});</script>"

    def _google_chunk(self, q: str, start: int) -> str:
        return self._google_tiles(q, start) + self._google_json(q, start)

    def _google_page(self, q: str, hl: str) -> str:
        if self.variant == "empty":
            return f'<html lang="{hl}"><body><div id="search">No results for {html.escape(q)}</div></body></html>'
        changed = self.variant == "changed"
        preview = (
            '<div id="pv" style="display:none"><div jsname="figiqf"><img class="q9yqpb" src=""></div>'
            '<a class="Hnk30e" href="#"><div class="indIKd"></div></a></div>'
            if changed
            else '<div id="pv" style="display:none"><a jsname="YKoRaf" href="#"><img jsname="kn3ccd" src=""></a>'
            '<h1 jsname="tnbaSe"></h1></div>'
        )
        return GOOGLE_PAGE.format(
            hl=hl, q=html.escape(q), qjs=json.dumps(q), first=self._google_chunk(q, 0), preview=preview,
            total=self.n_results, page=PAGE, previewable="false" if self.variant == "thumbs" else "true",
        )  # fmt: skip

    # --- Bing ---------------------------------------------------------------------------------------------
    def _bing(self, path: str, args: dict) -> None:
        q = args.get("q", "")
        if path == "/images/search":
            if self.block and self.block in q:
                return self._redirect("/challenge/verify?q=" + quote(q))
            return self._send(200, self._bing_page(q, args.get("setlang", "")).encode())
        if path == "/images/async":
            return self._send(200, self._bing_tiles(q, int(args.get("first", "0"))).encode())
        if path == "/detail":
            return self._detail(q, int(args["i"]))
        if path.startswith("/challenge/"):
            return self._send(200, b'<html><body><div id="challenge">Verify you are human</div></body></html>')
        return self._send(404, b"not found")

    def _bing_tiles(self, q: str, start: int) -> str:
        out = []
        for k, name in enumerate(result_names(q, self.n_results)[start : start + PAGE]):
            i = start + k
            m = {"murl": f"{self.base}/img/{name}.jpg?w=64&src=bing", "purl": f"{self.base}/page/{name}",
                 "t": f"Bing result {i} & co", "turl": f"https://tse1.mm.bing.net/th?id={name}"}  # fmt: skip
            attr = "m" if self.variant == "json" else "data-meta-v2"
            meta = f'{attr}="{html.escape(json.dumps(m))}"' if self.variant == "json" else ""
            out.append(f'<div class="imgpt"><a class="iusc" data-ri="{i}" {meta} href="#">'
                       f'<img class="mimg" src="{TINY_PNG_DATA_URI}"></a></div>')  # fmt: skip
        return "".join(out)

    def _bing_page(self, q: str, hl: str) -> str:
        if self.variant == "empty":
            return f'<html lang="{hl}"><body><div id="b_content">No results</div></body></html>'
        return BING_PAGE.format(
            hl=hl, q=html.escape(q), qjs=json.dumps(q), first=self._bing_tiles(q, 0), total=self.n_results, page=PAGE,
            banner="" if not self.consent else BING_BANNER,
        )  # fmt: skip


_SCRIPT = """
<script>
const Q = {qjs}, TOTAL = {total}, PAGE = {page};
let loaded = PAGE, loading = false;
function more() {{
  if (loading || loaded >= TOTAL) return;
  loading = true;
  fetch(MORE_URL + encodeURIComponent(Q) + '&' + START + '=' + loaded).then(r => r.text()).then(t => {{
    setTimeout(() => {{
      const box = document.createElement('div'); box.innerHTML = t;
      box.querySelectorAll('script').forEach(s => {{ const n = document.createElement('script');
        n.textContent = s.textContent; s.replaceWith(n); }});
      document.getElementById('grid').appendChild(box);
      loaded += PAGE; loading = false;
      if (SHOW_MORE && loaded === 2 * PAGE && loaded < TOTAL) document.getElementById('more').style.display = 'block';
    }}, 150);
  }});
}}
window.addEventListener('scroll', () => {{
  if (SHOW_MORE && loaded >= 2 * PAGE) return;  // from page 3 on, only the "show more" control loads more
  if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 50) more();
}});
function AF_initDataCallback(x) {{}}
</script>"""

_PREVIEW_SCRIPT = """
<script>
document.addEventListener('click', ev => {{
  const tile = ev.target.closest(TILE);
  if (!tile || !{previewable}) return;
  ev.preventDefault();
  const i = tile.dataset.ri, pv = document.getElementById('pv');
  pv.style.display = 'block';
  const img = pv.querySelector('img');
  img.src = tile.querySelector('img').src;  // the thumbnail first, the original later
  fetch('/detail?q=' + encodeURIComponent(Q) + '&i=' + i).then(r => r.json()).then(d => {{
    setTimeout(() => {{
      img.src = d.url;
      pv.querySelector('a').href = d.page;
      (pv.querySelector('h1') || pv.querySelector('div.indIKd') || pv.querySelector('a.ptitle')).textContent = d.title;
    }}, 300);
  }});
}});
</script>"""

GOOGLE_PAGE = (
    """<!DOCTYPE html><html lang="{hl}"><head><title>{q} - Google Search</title>
<style>#grid div {{ display: inline-block; width: 200px; height: 400px; margin: 4px; }}
#grid img {{ width: 180px; height: 140px; }} #pv {{ position: fixed; right: 0; top: 0; width: 400px;
height: 400px; background: #fff; z-index: 10; }} #pv img {{ width: 300px; height: 220px; }}</style></head>
<body><div id="grid">{first}</div>
<div class="GNJvt"><input id="more" class="mye4qd" type="button" value="Show more" style="display:none"
 onclick="this.style.display='none'; more()"></div>{preview}
<script>const MORE_URL = '/more?q=', START = 'start', SHOW_MORE = true, TILE = '[data-ri]';</script>"""
    + _SCRIPT
    + _PREVIEW_SCRIPT
    + "</body></html>"
)

BING_BANNER = """<div id="bnp_container" style="position:fixed;left:0;top:0;width:100%;height:100%;
background:rgba(0,0,0,.3);z-index:100"><button id="bnp_btn_accept"
onclick="document.getElementById('bnp_container').remove()">Accept</button></div>"""

BING_PAGE = (
    """<!DOCTYPE html><html lang="{hl}"><head><title>{q} - Bing images</title>
<style>.imgpt {{ display: inline-block; width: 200px; height: 400px; margin: 4px; }} .mimg {{ width: 180px;
height: 140px; }} #pv {{ position: fixed; right: 0; top: 0; width: 400px; height: 400px; background: #fff;
z-index: 10; }} #pv img {{ width: 300px; height: 220px; }}</style></head>
<body>{banner}<div id="grid">{first}</div>
<div id="pv" style="display:none"><div id="mainImageWindow"><img class="nofocus" src="">
<a class="ptitle" href="#"></a></div></div>
<script>const MORE_URL = '/images/async?q=', START = 'first', SHOW_MORE = false, TILE = 'a.iusc';</script>"""
    + _SCRIPT
    + _PREVIEW_SCRIPT.replace("{previewable}", "true")
    + "</body></html>"
)


def replica_handler(
    engine: str = "google", variant: str = "json", n_results: int = 45, consent: bool = True, block: str = "blockme"
) -> type[ReplicaHandler]:
    """A handler class for one replica configuration, with its own request log ('' in `block`: never blocks)."""
    attrs = {"engine": engine, "variant": variant, "n_results": n_results, "consent": consent, "log": [],
             "block": block}  # fmt: skip
    return type(f"{engine.title()}Replica", (ReplicaHandler,), attrs)
