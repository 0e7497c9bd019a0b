"""Every selector, data key and URL marker the browser engines use, as data in one place (tried in order)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineProfile:
    """What a search-result page of one engine looks like. Selectors are CSS unless they start with '//'."""

    name: str
    search_path: str  # format string with {q} and {hl} (already URL-encoded)
    consent_url_markers: tuple[str, ...]
    consent_buttons: tuple[str, ...]
    consent_cookie: tuple[str, str] | None  # (name, value) set before searching to skip the consent page
    blocked_url_markers: tuple[str, ...]
    blocked_selectors: tuple[str, ...]
    thumbnails: tuple[str, ...]  # clickable result tiles
    thumbnail_imgs: tuple[str, ...]  # the small <img> inside a tile (layer 3)
    preview_imgs: tuple[str, ...]  # the large image of the preview panel (layer 2)
    preview_links: tuple[str, ...]  # the link to the source page in the preview panel
    preview_titles: tuple[str, ...]
    preview_close: tuple[str, ...]
    show_more: tuple[str, ...]
    thumbnail_url_markers: tuple[str, ...]  # substrings that mark a URL as a thumbnail, not an original


GOOGLE = EngineProfile(
    name="google",
    search_path="/search?q={q}&udm=2&hl={hl}",
    consent_url_markers=("consent.google.", "/consent"),
    consent_buttons=("#L2AGLb", "button#W0wltc", "form[action*='consent'] button[aria-label]"),
    consent_cookie=("SOCS", "CAESHAgBEhIaAB"),
    blocked_url_markers=("/sorry/",),
    blocked_selectors=("form#captcha-form", "#recaptcha"),
    thumbnails=("div[jsname='dTDiAc']", "div.eA0Zlc", "div.isv-r", ".rg_i.Q4LuWd", "div[data-docid]", "div[data-ri]"),
    thumbnail_imgs=(
        "div[jsname='dTDiAc'] img",
        "div.eA0Zlc img",
        "img.YQ4gaf",
        "div.isv-r img",
        "img.rg_i",
        "div[data-docid] img",
        "div[data-ri] img",
    ),  # fmt: skip
    preview_imgs=(
        "img[jsname='kn3ccd']",
        "//div[@jsname='figiqf']//img",
        "img.sFlh5c.pT0Scc.iPVvYb",
        "img.r48jcc.pT0Scc.iPVvYb",
        "img.n3VNCb",
    ),
    preview_links=("a[jsname='YKoRaf']", "//div[@jsname='figiqf']/ancestor::a", "a.Hnk30e", "a.eHAdSb"),
    preview_titles=("h1[jsname='tnbaSe']", "div.indIKd", "a.eHAdSb h1", "a.Hnk30e"),
    preview_close=("button[jsname='tqp7ud']", "a.hm60ue"),
    show_more=("input.mye4qd", ".mye4qd", "div.GNJvt a", "a.T7sFge", "[jsname='oHxHid']"),
    thumbnail_url_markers=("encrypted-tbn", "gstatic.com/images?q=tbn", "data:image/"),
)

BING = EngineProfile(
    name="bing",
    search_path="/images/search?q={q}&setlang={hl}&form=HDRSC2&first=1",
    consent_url_markers=(),
    consent_buttons=("#bnp_btn_accept", "button#bnp_btn_accept", "#adlt_set_save"),
    consent_cookie=None,
    blocked_url_markers=("/challenge", "/captcha"),
    blocked_selectors=("#b_captcha", "form#captcha", "div#challenge"),
    thumbnails=("a.iusc",),
    thumbnail_imgs=("a.iusc img.mimg", "img.mimg", "a.iusc img"),
    preview_imgs=("#mainImageWindow img.nofocus", "img.nofocus", "div.imgContainer img", "#mainImageWindow img"),
    preview_links=("#mainImageWindow a.ptitle", "a.ptitle", "a.imgLink"),
    preview_titles=("a.ptitle", ".ptitle"),
    preview_close=("#closeBtn", "a.closeBtn", "div.close"),
    show_more=("a.btn_seemore", ".mm_seemore a", "input.btn_seemore"),
    thumbnail_url_markers=("th.bing.com/th", "tse1.mm.bing.net", "data:image/"),
)

# Layer 1 (Google): a result record is a JSON list holding the thumbnail's and the original's ["url",h,w] triples;
# its "2003" entry holds [null, doc id, source page URL, title, ...].
GOOGLE_META_KEY = "2003"
# Layer 1 (Bing): result metadata objects (the `m` attribute of a.iusc links): image URL, page URL, title.
BING_RECORD_KEYS = ("murl", "purl", "t")

# A "more results" control is found by role, label and place (scraper.loading): a button, an input button, an element
# with role=button or a link that stays on the page, below the last result tile, whose text, value, aria-label or title
# holds one of these (lower case), in the languages the domains search in. The profile's `show_more` classes are a hint.
MORE_RESULTS_WORDS = (
    "more results", "show more", "see more", "load more", "more images", "view more",  # en
    "결과 더보기", "결과 더 보기", "더보기", "더 보기", "이미지 더보기",  # ko
    "もっと見る", "さらに表示", "もっと表示", "その他の結果", "結果をもっと", "次の結果",  # ja
    "更多结果", "显示更多", "查看更多", "加载更多", "更多圖片",  # zh
    "weitere ergebnisse", "mehr anzeigen", "plus de résultats", "afficher plus", "más resultados", "mostrar más",
)  # fmt: skip
# The page's own word that the results have ended (a visible text node holding one of these, lower case).
END_OF_RESULTS_WORDS = (
    "reached the end", "no more results", "end of results", "end of the results", "no more images",
    "더 이상 결과가 없", "결과가 더 이상 없", "마지막 결과", "끝에 도달",
    "これ以上結果はありません", "これ以上の結果はありません", "最後まで表示", "結果の最後",
    "没有更多结果", "已经到底",
)  # fmt: skip
