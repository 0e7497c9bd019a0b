// The review page: grids of kept images by domain and split, duplicate groups; clicks toggle exclusions; Submit
// sends them to the page's server, which resumes the paused flow run. Text goes in with textContent only.
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
const outImages = new Set(), outGroups = new Set();
const views = [];  // [grid name or "groups", page index]
for (const [name, tiles] of Object.entries(data.grids)) {
  if (!tiles.length) continue;
  for (let p = 0; p * data.pageSize < tiles.length; p++) views.push([name, p]);
}
if (data.groups.length) views.push(["groups", 0]);
let at = 0;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function tile(id, caption, clickable) {
  const t = el(clickable ? "button" : "div", "tile");
  t.dataset.id = id;
  if (clickable) t.type = "button";
  const img = el("img");
  img.src = "/thumb/" + encodeURIComponent(id);
  img.alt = id;
  t.append(img, el("div", "", caption));
  if (outImages.has(id)) t.classList.add("out");
  return t;
}

function counts() {
  const n = outImages.size, g = outGroups.size;
  document.getElementById("count").textContent =
    n || g ? `excluded: ${n} image(s), ${g} group(s)` : "nothing excluded";
}

function show() {
  const view = document.getElementById("view");
  view.replaceChildren();
  if (!views.length) { view.append(el("p", "", "No kept images.")); return; }
  const [name, page] = views[at];
  const pages = views.filter(v => v[0] === name).length;
  view.append(el("div", "pager", `${name === "groups" ? "duplicate groups" : name}: page ${page + 1} of ${pages}` +
                 ` (view ${at + 1} of ${views.length})`));
  if (name === "groups") {
    for (const [gid, label, tiles] of data.groups) {
      const row = el("div", "group");
      row.dataset.group = gid;
      row.tabIndex = 0;
      if (outGroups.has(gid)) row.classList.add("out");
      row.append(el("div", "label", label));
      for (const [id, caption] of tiles) row.append(tile(id, caption, false));
      row.addEventListener("click", () => toggleGroup(gid, row));
      row.addEventListener("keydown", ev => { if (ev.key === " " || ev.key === "Enter") { ev.preventDefault(); toggleGroup(gid, row); } });
      view.append(row);
    }
  } else {
    const grid = el("div", "grid");
    const tiles = data.grids[name].slice(page * data.pageSize, (page + 1) * data.pageSize);
    for (const [id, caption] of tiles) {
      const t = tile(id, caption, true);
      t.addEventListener("click", () => { outImages.has(id) ? outImages.delete(id) : outImages.add(id);
                                           t.classList.toggle("out", outImages.has(id)); counts(); });
      grid.append(t);
    }
    view.append(grid);
  }
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("on", b.dataset.name === name);
}

function toggleGroup(gid, row) {
  outGroups.has(gid) ? outGroups.delete(gid) : outGroups.add(gid);
  row.classList.toggle("out", outGroups.has(gid));
  counts();
}

function go(i) { at = Math.max(0, Math.min(views.length - 1, i)); show(); window.scrollTo(0, 0); }

const tabs = document.getElementById("tabs");
for (const name of [...new Set(views.map(v => v[0]))]) {
  const count = name === "groups" ? data.groups.length : data.grids[name].length;
  const b = el("button", "", `${name === "groups" ? "duplicate groups" : name} (${count})`);
  b.type = "button";
  b.dataset.name = name;
  b.addEventListener("click", () => go(views.findIndex(v => v[0] === name)));
  tabs.append(b);
}

document.addEventListener("keydown", ev => {
  if (ev.target.id === "note") return;
  if (ev.key === "ArrowRight" || ev.key === "PageDown") { ev.preventDefault(); go(at + 1); }
  if (ev.key === "ArrowLeft" || ev.key === "PageUp") { ev.preventDefault(); go(at - 1); }
});

async function submit(approve) {
  const status = document.getElementById("status");
  status.className = "";
  status.textContent = "resuming the run...";
  const body = {approve, images: [...outImages], groups: [...outGroups], note: document.getElementById("note").value};
  try {
    const r = await fetch("/submit", {method: "POST", headers: {"Content-Type": "application/json"},
                                      body: JSON.stringify(body)});
    const answer = await r.json();
    if (!answer.ok) throw new Error(answer.error);
    status.textContent = answer.message;
    for (const b of document.querySelectorAll("button.act")) b.disabled = true;
  } catch (err) {
    status.className = "err";
    status.textContent = "not resumed: " + err.message;
  }
}
document.getElementById("submit").addEventListener("click", () => submit(true));
document.getElementById("reject").addEventListener("click", () => submit(false));
counts();
show();
