"use strict";
(() => {
  const data = JSON.parse(document.getElementById("data").textContent);
  const $ = (id) => document.getElementById(id);
  const status = $("status");

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  const select = $("run");
  for (const name of data.runs) {
    const opt = document.createElement("option");
    opt.value = opt.textContent = name;
    select.appendChild(opt);
  }
  if (data.run) select.value = data.run;
  const radios = Array.from(document.querySelectorAll("input[name=direction]"));
  const setDirection = (d) => radios.forEach((r) => { r.checked = r.value === d; });
  setDirection(data.direction);
  const direction = () => (radios.find((r) => r.checked) || radios[0]).value;

  let busy = false;
  async function send(query, body) {
    if (busy) return say("one photo at a time: the last one is still being translated", "err");
    busy = true;
    say("translating at full size…", "busy");
    const params = new URLSearchParams({ run: select.value, direction: direction(), ...query });
    try {
      const resp = await fetch("/translate?" + params, {
        method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: body || new Blob([]),
      });
      const answer = await resp.json().catch(() => ({ ok: false, error: `the server answered ${resp.status}` }));
      if (!answer.ok) return say(answer.error, "err");
      await show(answer, params.get("run"), params.get("direction"));
    } catch (err) {
      say(`could not reach the page's server: ${err}`, "err");
    } finally {
      busy = false;
    }
  }

  function loaded(img, src) {
    return new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error(`cannot load ${src}`));
      img.src = src;
    });
  }

  async function show(answer, run, dir) {
    $("result").hidden = false;
    await Promise.all([loaded($("before"), answer.before), loaded($("after"), answer.after)]);
    $("download").href = answer.after;
    $("download").download = answer.download;
    $("full").href = answer.after;
    $("size").textContent = `${answer.width}×${answer.height} px, run ${run}, ${dir.replace("2", "→")}`;
    slide(50);
    say(`done: ${answer.download}`);
  }

  function upload(file) {
    if (!file) return;
    if (file.size > data.maxUploadMB * 1048576) {
      return say(`the file is ${(file.size / 1048576).toFixed(1)} MB; this page takes files up to ` +
                 `${data.maxUploadMB} MB`, "err");
    }
    send({ name: file.name }, file);
  }

  const slider = $("slider");
  function slide(value) {
    slider.value = value;
    $("before").style.clipPath = `inset(0 ${100 - value}% 0 0)`;
    $("line").style.left = `${value}%`;
  }
  slider.addEventListener("input", () => slide(Number(slider.value)));

  const file = $("file"), drop = $("drop");
  file.addEventListener("change", () => { upload(file.files[0]); file.value = ""; });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); file.click(); } });
  for (const name of ["dragenter", "dragover"]) {
    document.addEventListener(name, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) drop.classList.remove("over"); });
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    upload(e.dataTransfer.files[0]);
  });

  const strip = $("tests");
  if (data.tests.length) {
    const label = document.createElement("span");
    label.textContent = "or pick a test image:";
    strip.appendChild(label);
  }
  for (const id of data.tests) {
    const img = document.createElement("img");
    img.src = "/thumb/" + encodeURIComponent(id);
    img.alt = img.title = id;
    img.tabIndex = 0;
    img.loading = "lazy";
    img.dataset.id = id;
    const pick = () => { setDirection(id.startsWith("B/") ? "B2A" : "A2B"); send({ test: id }); };
    img.addEventListener("click", pick);
    img.addEventListener("keydown", (e) => { if (e.key === "Enter") pick(); });
    strip.appendChild(img);
  }
})();
