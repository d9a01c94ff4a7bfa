// gongkai review: the item page's keys (ABBYY-style verification). No inline script anywhere:
// the CSP allows only this file. Every action goes through the JSON API with the CSRF header.
"use strict";

(function () {
  const form = document.getElementById("review-form");
  if (!form) return;
  const box = document.getElementById("value-box");
  const note = document.getElementById("note-box");
  const message = document.getElementById("message");
  const help = document.getElementById("keys-help");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const id = form.dataset.itemId;
  const TRAIL = "gongkai-review-trail";
  let busy = false;

  function say(text, bad) {
    message.textContent = text;
    message.classList.toggle("bad", !!bad);
  }

  async function post(action, body) {
    const response = await fetch(`/api/items/${id}/${action}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    const answer = await response.json().catch(() => ({ error: response.statusText }));
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    return answer;
  }

  function trail() {
    try { return JSON.parse(sessionStorage.getItem(TRAIL) || "[]"); } catch (e) { return []; }
  }

  function go(itemId) {
    if (!itemId) { window.location.assign("/queue"); return; }
    const seen = trail();
    seen.push(id);
    sessionStorage.setItem(TRAIL, JSON.stringify(seen.slice(-200)));
    window.location.assign(`/items/${itemId}`);
  }

  function back() {
    const seen = trail();
    const previous = seen.pop();
    sessionStorage.setItem(TRAIL, JSON.stringify(seen));
    if (previous) window.location.assign(`/items/${previous}`);
  }

  function focusBox() {
    box.focus();
    if (box.select) box.select(); // typing replaces the value
  }

  async function act(action, body) {
    if (busy) return;
    busy = true;
    say("saving…");
    try {
      await claimed;
      const outcome = await post(action, body);
      const item = outcome.item || outcome;
      const ruled = (outcome.confirmed_by_rule || []).length;
      say(action + (ruled ? `, ${ruled} more confirmed by rule` : "") + (outcome.report_complete ? "; report complete" : ""));
      go(item.next_item_id || form.dataset.next);
    } catch (error) {
      busy = false;
      say(error.message, true); // nothing was saved: the service refused it
      focusBox();
    }
  }

  function save() {
    const noteText = note.value.trim() || null;
    const version = Number(form.dataset.version);
    if (form.dataset.kind === "unmapped") {
      act("map", { row_id: box.value || null, version: version, note: noteText });
    } else if (box.value.trim() === form.dataset.shown) {
      act("confirm", { version: version, note: noteText });
    } else {
      const text = box.value.trim();
      act("correct", { value: text === "" ? null : text, version: version, note: noteText });
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); save(); });
  document.getElementById("skip-button").addEventListener("click", () => act("skip", {}));

  document.addEventListener("keydown", (event) => {
    if (event.target === note && event.key !== "Escape" && event.key !== "Enter") return;
    if (event.key === "Enter") {
      event.preventDefault();
      save();
    } else if (event.key === "Escape") {
      event.preventDefault();
      if (!help.hidden) { help.hidden = true; focusBox(); return; }
      act("skip", {});
    } else if (event.key === "Tab") {
      event.preventDefault();
      if (event.shiftKey) back(); else go(form.dataset.next);
    } else if (event.key === "?") {
      event.preventDefault();
      help.hidden = !help.hidden;
      focusBox();
    }
  });

  // Focus always comes back to the value box.
  document.addEventListener("click", (event) => {
    if (event.target !== note && !event.target.closest("a, button, select")) focusBox();
  });

  // Claim the item (a lease; renewed when it is ours already) as it opens; a save waits for
  // the claim to settle. Claimed by someone else: the claim is refused and says by whom.
  const claimed = (form.dataset.state === "open" || form.dataset.state === "claimed")
    ? post("claim").then(() => { form.dataset.claimed = "yes"; })
        .catch((error) => { form.dataset.claimed = "no"; say(error.message, true); })
    : Promise.resolve();
  focusBox();
})();
