"use strict";
// tiersim serve's page: each control is one PATH=VALUE override. A change
// posts every override that differs from the scenario file to /run and puts
// the answer (an HTML fragment) in place; while a run is in flight, further
// changes wait and only the latest settings are sent next.
(function () {
  const rows = Array.from(document.querySelectorAll(".control"));
  const results = document.getElementById("results");
  const error = document.getElementById("error");
  const status = document.getElementById("status");
  const action = document.getElementById("action");
  let inflight = false;
  let pending = false;
  let answers = 0;

  function box(row) { return row.querySelector("input.value"); }
  function slider(row) { return row.querySelector("input[type=range]"); }

  function settings() {
    const out = [];
    for (const row of rows) {
      const v = box(row).value.trim();
      const changed = v !== box(row).dataset.original;
      row.classList.toggle("changed", changed);
      if (changed) out.push(row.dataset.path + "=" + v);
    }
    return out;
  }

  function post(url, lines) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "text/plain; charset=utf-8" },
      body: lines.join("\n"),
    });
  }

  async function send() {
    inflight = true;
    const sets = settings();
    const started = performance.now();
    status.textContent = "Running...";
    try {
      const r = await post("run", sets);
      const text = await r.text();
      if (r.ok) {
        results.innerHTML = text;
        results.dataset.sets = sets.join("\n");
        results.classList.remove("stale");
        error.textContent = "";
        error.style.display = "none";
        const ms = Math.round(performance.now() - started);
        status.textContent = (sets.length === 0 ? "The scenario as written" : sets.length + " change(s) from the scenario file") +
          "; answered in " + ms + " ms (" + (r.headers.get("X-Tiersim-Ms") || "?") + " ms to simulate and draw).";
      } else {
        error.textContent = text;
        error.style.display = "block";
        results.classList.add("stale");
        status.textContent = "Not run: the figures below are for the last valid settings.";
      }
    } catch (e) {
      error.textContent = "The server did not answer (" + e + "). Is tiersim serve still running?";
      error.style.display = "block";
    } finally {
      answers += 1;
      document.body.dataset.answers = String(answers);
      inflight = false;
      if (pending) {
        pending = false;
        send();
      }
    }
  }

  // A workload's share moved: the other shares (those that are numbers)
  // keep their proportions and take up the rest, so the shares sum to 1.
  const SHARE = /^workloads\.[^.]+\.share$/;
  function rebalance(moved) {
    if (!SHARE.test(moved.dataset.path)) return;
    const v = Number(box(moved).value);
    if (!Number.isFinite(v) || v < 0 || v > 1) return;
    const others = rows.filter(function (r) {
      return r !== moved && SHARE.test(r.dataset.path) && Number.isFinite(Number(box(r).value));
    });
    const sum = others.reduce(function (a, r) { return a + Number(box(r).value); }, 0);
    for (const r of others) {
      const x = sum > 0 ? Number(box(r).value) * (1 - v) / sum : (1 - v) / others.length;
      box(r).value = String(Math.round(x * 10000) / 10000);
      slider(r).value = box(r).value;
    }
  }

  function changed() {
    if (inflight) pending = true;
    else send();
  }

  for (const row of rows) {
    slider(row).addEventListener("input", function () {
      box(row).value = slider(row).value;
      rebalance(row);
      changed();
    });
    box(row).addEventListener("change", function () {
      const n = Number(box(row).value.replace(/_/g, ""));
      if (box(row).value.trim() !== "" && Number.isFinite(n)) slider(row).value = String(n);
      rebalance(row);
      changed();
    });
  }

  document.getElementById("reset").addEventListener("click", function () {
    for (const row of rows) {
      box(row).value = box(row).dataset.original;
      slider(row).value = slider(row).defaultValue;
    }
    changed();
  });

  document.getElementById("download").addEventListener("click", async function () {
    const r = await post("scenario.yaml", settings());
    const text = await r.text();
    if (!r.ok) {
      action.textContent = text;
      return;
    }
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
    a.download = document.body.dataset.download;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    action.textContent = "Saved " + a.download + "; tiersim run " + a.download + " gives these figures.";
  });

  document.getElementById("write").addEventListener("click", async function () {
    action.textContent = "Writing the report...";
    const r = await post("write", settings());
    action.textContent = await r.text();
  });
})();
