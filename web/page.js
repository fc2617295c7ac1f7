// The feedback page: posts a comment to POST /comments, shows it as pending until
// GET /status/{id} says it is stored, and lists comments newest first with "load more".
// Every text from the API goes into the page through textContent: it is never parsed
// as HTML.
"use strict";

const PAGE_SIZE = 10;
const POLL_MS = 500;
const POLL_GIVE_UP_MS = 120000;

const comments = new Map(); // id -> {comment, state}
let nextCursor = null;

const $ = (id) => document.getElementById(id);

function stars(rating) {
  return rating ? "★".repeat(rating) + "☆".repeat(5 - rating) : "";
}

function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

function render() {
  const list = $("comments");
  // Ids are UUIDv7: their text order is their time order.
  const ordered = [...comments.values()].sort((a, b) => (a.comment.id < b.comment.id ? 1 : -1));
  const items = ordered.map(({ comment, state }) => {
    const item = document.createElement("li");
    item.dataset.commentId = comment.id;
    item.dataset.state = state;
    const meta = document.createElement("div");
    meta.className = "meta";
    const who = document.createElement("span");
    who.className = "author";
    who.textContent = comment.author || "anonymous";
    const rating = document.createElement("span");
    rating.className = "stars";
    rating.textContent = stars(comment.rating);
    if (comment.rating) rating.setAttribute("aria-label", `${comment.rating} out of 5`);
    const when = document.createElement("time");
    when.dateTime = comment.created_at || "";
    when.textContent = formatTime(comment.created_at);
    const status = document.createElement("span");
    status.className = "state";
    status.textContent = state === "pending" ? "◷ queued, not stored yet" : "✓ stored";
    meta.append(who, rating, when, status);
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = comment.text;
    item.append(meta, text);
    return item;
  });
  list.replaceChildren(...items);
  $("load-more").hidden = !nextCursor;
  $("list-status").textContent = comments.size === 0 ? "No comments yet: be the first." : "";
  $("list-status").classList.remove("bad");
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { title: `${response.status} ${response.statusText}` };
  }
}

function describe(problem) {
  const id = problem.correlation_id ? ` (correlation id ${problem.correlation_id})` : "";
  return `${problem.detail || problem.title || problem.message || "Something went wrong"}${id}`;
}

async function loadPage(cursor) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor) query.set("cursor", cursor);
  const response = await fetch(`/comments?${query}`);
  if (!response.ok) throw new Error(describe(await problemOf(response)));
  const page = await response.json();
  for (const comment of page.items) {
    comments.set(comment.id, { comment, state: "stored" });
  }
  return page.next_cursor || null;
}

async function refresh() {
  try {
    const cursor = await loadPage(null);
    // The first page's cursor only matters until "load more" has gone further.
    if (nextCursor === null || comments.size <= PAGE_SIZE) nextCursor = cursor;
    render();
  } catch (error) {
    $("list-status").textContent = `Could not load the comments: ${error.message}`;
    $("list-status").classList.add("bad");
  }
}

async function loadMore() {
  const button = $("load-more");
  button.disabled = true;
  try {
    nextCursor = await loadPage(nextCursor);
    render();
  } catch (error) {
    $("list-status").textContent = `Could not load more: ${error.message}`;
    $("list-status").classList.add("bad");
  } finally {
    button.disabled = false;
  }
}

function clearErrors() {
  for (const element of document.querySelectorAll(".field-error")) element.textContent = "";
  for (const element of document.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
  $("form-status").textContent = "";
  $("form-status").classList.remove("bad");
}

function showErrors(problem) {
  let shown = false;
  for (const error of problem.errors || []) {
    // `field` is a JSON pointer into the body: /text, /author, /rating.
    const name = String(error.field || "").replace(/^\//, "");
    const slot = document.querySelector(`.field-error[data-field="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = error.message;
      $(name)?.setAttribute("aria-invalid", "true");
      shown = true;
    }
  }
  $("form-status").textContent = shown ? "Please fix the fields marked above." : describe(problem);
  $("form-status").classList.add("bad");
}

async function waitUntilStored(id, location) {
  const started = Date.now();
  while (Date.now() - started < POLL_GIVE_UP_MS) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    try {
      const response = await fetch(location || `/status/${encodeURIComponent(id)}`);
      if (response.ok) {
        const entry = comments.get(id);
        if (entry) entry.state = "stored";
        render();
        return;
      }
    } catch {
      // The network blinked: keep polling.
    }
  }
  $("form-status").textContent = "Your comment is queued but not stored yet; it will appear when it is.";
}

// One Idempotency-Key per draft: a post retried after a timeout, a 5xx or a lost
// connection sends the same key, so the comment is stored once however often the person
// clicks. A 2xx or 4xx ends the draft's key (the server has answered it); editing the
// draft makes a new one.
let draftKey = null;

async function submit(event) {
  event.preventDefault();
  clearErrors();
  const body = { text: $("text").value };
  const author = $("author").value.trim();
  if (author) body.author = author;
  if ($("rating").value) body.rating = Number($("rating").value);
  const button = $("submit");
  button.disabled = true;
  try {
    const response = await fetch("/comments", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": (draftKey ??= crypto.randomUUID()) },
      body: JSON.stringify(body),
    });
    if (response.status < 500) draftKey = null;
    if (response.status !== 202) {
      showErrors(await problemOf(response));
      return;
    }
    const accepted = await response.json();
    comments.set(accepted.id, {
      comment: { id: accepted.id, text: body.text, author: body.author, rating: body.rating, created_at: accepted.created_at },
      state: "pending",
    });
    render();
    $("form-status").textContent = "Thanks! Your comment is queued.";
    $("comment-form").reset();
    // Location is the stage path (/dev/status/{id}); the local stack serves it too.
    waitUntilStored(accepted.id, response.headers.get("location"));
  } catch (error) {
    $("form-status").textContent = `Could not send: ${error.message}`;
    $("form-status").classList.add("bad");
  } finally {
    button.disabled = false;
  }
}

$("comment-form").addEventListener("submit", submit);
$("comment-form").addEventListener("input", () => { draftKey = null; });
$("load-more").addEventListener("click", loadMore);
refresh();
setInterval(refresh, 5000);
