/* The office kiosk: runs the questionnaire in the browser so it keeps taking answers when the
   network or the server is gone. Finished surveys wait in localStorage, each with a key made
   here (crypto.randomUUID), and are delivered one by one to POST /k/api/responses; the server
   stores a key once ("already received" for a repeat), so re-sending is always safe. An answer
   the server refuses for good (400 invalid, or any other 4xx but 401, 408 and 429) is
   dropped from the queue and kept in a "rejected" log,
   so one bad item cannot block the rest (the server keeps the refused item too, for the
   administrators; the heartbeat reports the log's length). Any other answer (429 over the
   device's limit, 503 when the server cannot store it now, a network failure) keeps the item
   at the head of the queue and tries again later, the wait doubling up to a minute; another
   server error moves the item to the end of the queue, and it is tried again after the others,
   with the same wait.
   The exit poll (GET /k/api/exit-poll: the one-question ratings asked at the kiosk) is a quick
   alternative to the survey: the home screen when no campaign runs, a second button beside the
   survey's when one does. Each tap is one answer with a key of its own, queued, delivered to
   POST /k/api/exit-poll and refused or retried exactly like a survey. Every text comes from
   the server, in Russian.
   No build step, no external resources. */
(function () {
  "use strict";

  var TOKEN_KEY = "cci_kiosk_token";
  var QUEUE_KEY = "cci_kiosk_queue";
  var REJECTED_KEY = "cci_kiosk_rejected";
  var SENT_KEY = "cci_kiosk_sent";
  var QUESTIONNAIRE_KEY = "cci_kiosk_questionnaire";
  var EXIT_POLL_KEY = "cci_kiosk_exit_poll";
  var LOG_MAX = 50;

  function load(key, fallback) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) { return fallback; }
  }

  function save(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full */ }
  }

  function appendLog(key, entry) {
    var log = load(key, []);
    log.push(entry);
    save(key, log.slice(-LOG_MAX));
  }

  // --- the pairing pages ---------------------------------------------------------------------

  var paired = document.getElementById("kiosk-paired");
  if (paired) {
    window.localStorage.setItem(TOKEN_KEY, paired.getAttribute("data-token"));
    window.localStorage.removeItem(QUESTIONNAIRE_KEY);
    window.localStorage.removeItem(EXIT_POLL_KEY);
    window.sessionStorage.removeItem("cci_kiosk_restore_tried");
    window.setTimeout(function () {
      window.location.replace(paired.getAttribute("data-app-url"));
    }, 1000);
    return;
  }

  var restore = document.getElementById("kiosk-restore");
  if (restore) {
    var kept = window.localStorage.getItem(TOKEN_KEY);
    if (kept && !window.sessionStorage.getItem("cci_kiosk_restore_tried")) {
      window.sessionStorage.setItem("cci_kiosk_restore_tried", "1");
      restore.querySelector("input[name=token]").value = kept;
      restore.submit();
    }
    return;
  }

  var root = document.getElementById("kiosk");
  if (!root) { return; }

  var config = JSON.parse(root.getAttribute("data-config"));
  var screen = document.getElementById("kiosk-screen");
  var countdownBox = document.getElementById("kiosk-countdown");
  var netBox = document.getElementById("kiosk-net");
  var questionnaire = load(QUESTIONNAIRE_KEY, null);
  var texts = questionnaire ? questionnaire.texts : {};
  var exitPoll = load(EXIT_POLL_KEY, null);
  var state = "attract";     // attract | survey | poll | thanks | closed | revoked | loading
  var survey = null;
  var poll = null;           // the exit poll under way: {index, home}
  var lastActivity = Date.now();
  var thanksAt = 0;
  var flushing = false;
  var retryAt = 0;
  var retryDelay = 2000;
  var lastSendFailed = false;

  function headers() {
    var h = { "Content-Type": "application/json", "Accept": "application/json" };
    var token = window.localStorage.getItem(TOKEN_KEY);
    if (token) { h[config.tokenHeader] = token; }
    return h;
  }

  function fmt(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (_m, name) {
      return values[name] !== undefined ? values[name] : "";
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; }
      else if (name === "onclick") { node.addEventListener("click", attrs[name]); }
      else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function show(nodes, stateName, stepKey) {
    state = stateName;
    document.body.setAttribute("data-screen", stateName);
    document.body.setAttribute("data-step", stepKey || "");
    var card = el("section", { "class": "survey-card kiosk-card kiosk-card--" + stateName,
                               id: "kiosk-screen",
                               "aria-labelledby": "step-heading" }, nodes);
    screen.replaceWith(card);
    screen = card;
    var heading = document.getElementById("step-heading");
    if (heading) { heading.focus(); }
    updateNet();
  }

  // --- screens -------------------------------------------------------------------------------

  function hasExitPoll() {
    return !!(exitPoll && exitPoll.questions && exitPoll.questions.length);
  }

  function attract() {
    survey = null;
    poll = null;
    hideCountdown();
    resetDisplay();
    if (!questionnaire) {
      show([el("h1", { "class": "survey-heading", id: "step-heading", tabindex: "-1",
                       text: texts.loading || "…" })], "loading");
      return;
    }
    if (!questionnaire.campaign) {
      // no survey to run: the kiosk still takes the visit's rating, right on its home screen
      if (hasExitPoll()) { beginPoll(true); return; }
      show([el("h1", { "class": "survey-heading", id: "step-heading", tabindex: "-1",
                       text: texts.closedHeading }),
            el("p", { text: texts.closedLead })], "closed");
      return;
    }
    show([
      el("h1", { "class": "survey-heading kiosk-attract__heading", id: "step-heading",
                 tabindex: "-1", text: texts.attractHeading }),
      el("p", { "class": "survey-office", text: questionnaire.office }),
      el("p", { "class": "survey-intro", text: texts.attractLead }),
      el("button", { type: "button", "class": "button kiosk-big kiosk-start", id: "kiosk-start",
                     text: texts.attractStart, onclick: begin }),
      hasExitPoll() ? el("button", { type: "button",
                                     "class": "button button--secondary kiosk-big kiosk-poll-start",
                                     id: "kiosk-poll-start", text: texts.exitPollStart,
                                     onclick: function () { beginPoll(false); } }) : null,
    ], "attract");
  }

  // --- the exit poll: one tap per question, each answer queued on its own ---------------------

  // home: the poll is the kiosk's home screen (no campaign), so its first question waiting
  // is not a respondent to time out
  function beginPoll(home) {
    survey = null;
    poll = { index: 0, home: home };
    renderPoll();
  }

  function renderPoll() {
    var questions = exitPoll.questions;
    var question = questions[poll.index];
    var nodes = [];
    if (poll.index === 0) {
      nodes.push(el("p", { "class": "survey-office", text: exitPoll.office || questionnaire.office }));
    }
    if (questions.length > 1) {
      var label = fmt(texts.progress, { n: poll.index + 1, total: questions.length });
      nodes.push(el("div", { "class": "survey-progress" }, [
        el("p", { id: "progress-label", text: label }),
        el("progress", { max: String(questions.length), value: String(poll.index + 1),
                         "aria-labelledby": "progress-label" }),
      ]));
    }
    var fieldset = el("fieldset", { "class": "survey-question" });
    fieldset.appendChild(el("legend", {}, [el("h1", { "class": "survey-heading", id: "step-heading",
                                                     tabindex: "-1", text: question.text })]));
    var buttons = [];
    for (var value = question.low; value <= question.high; value += 1) {
      buttons.push(pollButton(question, value));
    }
    var labelled = question.labels && question.labels.length;
    if (!labelled) {
      fieldset.setAttribute("aria-describedby", "scale-ends");
      fieldset.appendChild(el("p", { "class": "scale__ends", id: "scale-ends" }, [
        el("span", { text: fmt(texts.exitPollLow, { n: question.low }) }),
        el("span", { text: fmt(texts.exitPollHigh, { n: question.high }) }),
      ]));
      fieldset.appendChild(el("div", { "class": "scale kiosk-scale kiosk-poll" }, buttons));
    } else {
      fieldset.appendChild(el("div", { "class": "choices kiosk-poll",
                                       "data-columns": String(buttons.length) }, buttons));
    }
    nodes.push(fieldset);
    var navigation = [el("button", { type: "button", "class": "button button--secondary kiosk-poll-skip",
                                     id: "kiosk-poll-skip", text: texts.exitPollSkip,
                                     onclick: nextPollQuestion })];
    if (!poll.home || poll.index > 0) {
      navigation.push(el("button", { type: "button", "class": "button button--secondary kiosk-poll-done",
                                     text: texts.exitPollDone, onclick: pollThanks }));
    }
    nodes.push(el("nav", { "class": "survey-nav", "aria-label": texts.navigation }, navigation));
    show(nodes, "poll", question.key);
  }

  function pollButton(question, value) {
    var labelled = question.labels && question.labels.length;
    var button = el("button", { type: "button", "class": labelled ? "choice" : "scale__btn",
                                "data-value": String(value),
                                onclick: function () { pollAnswer(question, value); } });
    button.appendChild(document.createTextNode(labelled ? question.labels[value - question.low]
                                                        : String(value)));
    return button;
  }

  function pollAnswer(question, value) {
    var queue = load(QUEUE_KEY, []);
    queue.push({ kind: "exit_poll", key: uuid(), question: question.key, value: value,
                 finished_at: new Date().toISOString(), app_version: config.appVersion });
    save(QUEUE_KEY, queue);
    flush();
    nextPollQuestion();
  }

  function nextPollQuestion() {
    poll.index += 1;
    if (poll.index < exitPoll.questions.length) { renderPoll(); return; }
    pollThanks();
  }

  function pollThanks() {
    poll = null;
    thanksAt = Date.now();
    hideCountdown();
    show([el("h1", { "class": "survey-heading", id: "step-heading", tabindex: "-1",
                     text: texts.thanksHeading }),
          el("p", { text: texts.exitPollThanks })], "thanks");
    updateNet();
  }

  function revoked() {
    survey = null;
    hideCountdown();
    show([el("h1", { "class": "survey-heading", id: "step-heading", tabindex: "-1",
                     text: texts.revokedHeading || "Киоск отключён" }),
          el("p", { text: texts.revokedLead || "" })], "revoked");
  }

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function begin() {
    // a kiosk browser started without --kiosk still gets the whole screen on the first touch
    if (document.fullscreenEnabled && !document.fullscreenElement) {
      document.documentElement.requestFullscreen().catch(function () { /* not allowed */ });
    }
    survey = { key: uuid(), rtype: null, answers: {}, profile: {}, comment: "",
               startedAt: new Date().toISOString(), timings: {}, index: 0,
               shownAt: Date.now() };
    renderStep();
  }

  // The steps for the chosen type: the type step, then each item whose condition holds.
  function steps() {
    var list = [questionnaire.typeStep];
    if (!survey.rtype) { return list; }
    questionnaire.types[survey.rtype].forEach(function (step) {
      if (step.follows) {
        var given = step.section === "profile" ? survey.profile : survey.answers;
        if (String(given[step.follows[0]]) !== step.follows[1]) { return; }
      }
      list.push(step);
    });
    return list;
  }

  function current(step) {
    if (step.section === "respondent_type") { return survey.rtype; }
    if (step.section === "comment") { return survey.comment; }
    var given = step.section === "profile" ? survey.profile : survey.answers;
    return given[step.key];
  }

  function answerButton(label, value, cls, chosen, extra) {
    var button = el("button", { type: "button", "class": cls + (chosen ? " is-current" : ""),
                                "data-value": value,
                                onclick: function () { answer(value); } });
    button.appendChild(document.createTextNode(label));
    if (chosen) {
      button.appendChild(el("span", { "class": "visually-hidden", text: " (" + texts.yourAnswer + ")" }));
    }
    if (extra) { button.appendChild(el("span", { "class": "choice__hint", text: extra })); }
    return button;
  }

  // Options in a grid: as many columns as options up to three, two rows of two for four, then
  // three and four columns (kiosk.css).
  function columnsFor(count) {
    if (count <= 3) { return count; }
    if (count === 4) { return 2; }
    return count <= 6 ? 3 : 4;
  }

  function fitsScreen() {
    return document.scrollingElement.scrollHeight <= window.innerHeight;
  }

  // The options do not fit on the screen (many of them, the large type, a small screen): show
  // them a page at a time, whole rows of the grid, with buttons to the other pages; never in
  // smaller type. The page with the chosen answer opens first.
  function paginate(container, buttons, value) {
    if (fitsScreen() || buttons.length < 2) { return; }
    var columns = Number(container.getAttribute("data-columns")) || 1;
    var size = buttons.length;
    var page = 0;
    var label = el("p", { id: "kiosk-pager-label", "aria-live": "polite" });
    var previous = el("button", { type: "button", "class": "button button--secondary kiosk-pager__prev",
                                  text: "← " + (texts.previousOptions || "Назад") });
    var next = el("button", { type: "button", "class": "button button--secondary kiosk-pager__next",
                              text: (texts.moreOptions || "Ещё") + " →" });
    var pager = el("div", { "class": "kiosk-pager", role: "group",
                            "aria-labelledby": "kiosk-pager-label" }, [previous, label, next]);
    container.parentNode.insertBefore(pager, container.nextSibling);

    function pages() { return Math.ceil(buttons.length / size); }

    function showPage(number, focus) {
      page = Math.max(0, Math.min(number, pages() - 1));
      var first = page * size;
      var last = Math.min(first + size, buttons.length);
      buttons.forEach(function (button, i) { button.hidden = i < first || i >= last; });
      label.textContent = fmt(texts.optionsPage || "{from}–{to} / {total}",
                              { from: first + 1, to: last, total: buttons.length });
      previous.disabled = page === 0;
      next.disabled = page === pages() - 1;
      if (focus) { buttons[first].focus(); }
    }

    previous.addEventListener("click", function () { showPage(page - 1, true); });
    next.addEventListener("click", function () { showPage(page + 1, true); });
    // a whole row at a time while rows are left, then one option at a time
    while (size > 1) {
      size -= size > columns ? (size % columns || columns) : 1;
      showPage(0, false);
      if (fitsScreen()) { break; }
    }
    var chosen = -1;
    buttons.forEach(function (button, i) {
      if (button.getAttribute("data-value") === value) { chosen = i; }
    });
    showPage(chosen < 0 ? 0 : Math.floor(chosen / size), false);
  }

  // keepClock: the same step drawn again (the screen changed size), its time still running
  function renderStep(keepClock) {
    var all = steps();
    var step = all[survey.index];
    var value = current(step);
    var nodes = [];
    var paged = null;
    if (!keepClock) { survey.shownAt = Date.now(); }
    if (survey.index > 0) {
      var label = fmt(texts.progress, { n: survey.index, total: all.length - 1 });
      nodes.push(el("div", { "class": "survey-progress" }, [
        el("p", { id: "progress-label", text: label }),
        el("progress", { max: String(all.length - 1), value: String(survey.index),
                         "aria-labelledby": "progress-label" }),
      ]));
    }
    if (step.kind === "text") {
      var area = el("textarea", { "class": "survey-comment", id: "comment", rows: "6",
                                  maxlength: "4000", "aria-describedby": "comment-hint" });
      area.value = value || "";
      nodes.push(el("h1", { "class": "survey-heading", id: "step-heading", tabindex: "-1" },
                    [el("label", { "for": "comment", text: step.text })]));
      nodes.push(el("p", { "class": "survey-hint", id: "comment-hint", text: texts.commentHint }));
      nodes.push(area);
    } else {
      var fieldset = el("fieldset", { "class": "survey-question" });
      fieldset.appendChild(el("legend", {}, [el("h1", { "class": "survey-heading", id: "step-heading",
                                                       tabindex: "-1", text: step.text })]));
      if (step.scale) {
        fieldset.setAttribute("aria-describedby", "scale-ends");
        fieldset.appendChild(el("p", { "class": "scale__ends", id: "scale-ends" }, [
          el("span", { text: step.scale[0] + " — " + step.lowLabel }),
          el("span", { text: step.scale[step.scale.length - 1] + " — " + step.highLabel }),
        ]));
        var scale = el("div", { "class": "scale kiosk-scale" });
        step.scale.forEach(function (n) {
          scale.appendChild(answerButton(String(n), String(n), "scale__btn", String(value) === String(n)));
        });
        fieldset.appendChild(scale);
      } else {
        var buttons = step.choices.map(function (choice) {
          return answerButton(choice.label, choice.value, "choice", value === choice.value, choice.hint);
        });
        var choices = el("div", { "class": "choices", "data-columns": String(columnsFor(buttons.length)) },
                         buttons);
        fieldset.appendChild(choices);
        paged = [choices, buttons];
      }
      if (step.allowsNa) {
        fieldset.appendChild(answerButton(step.naLabel, "na", "choice choice--na", value === "na"));
      }
      nodes.push(fieldset);
    }
    var navigation = [];
    if (survey.index > 0) {
      navigation.push(el("button", { type: "button", "class": "button button--secondary kiosk-back",
                                     text: "← " + texts.back,
                                     onclick: function () { survey.index -= 1; renderStep(); } }));
    }
    if (step.kind === "text") {
      navigation.push(el("button", { type: "button", "class": "button kiosk-big", id: "kiosk-next",
                                     text: texts.next,
                                     onclick: function () { answer(area.value.trim()); } }));
    }
    if (navigation.length) {
      nodes.push(el("nav", { "class": "survey-nav", "aria-label": texts.navigation }, navigation));
    }
    show(nodes, "survey", step.key);
    if (paged) { paginate(paged[0], paged[1], value); }
  }

  // The screen changed size (the kiosk went full screen, or left it) or the type did: a
  // question whose options are paged, or that no longer fits, is laid out again (the focus
  // stays where it was outside the question, e.g. on the type switch). The comment is left
  // alone (its box only changes height).
  function relayout() {
    if (state !== "survey" || !survey || document.getElementById("comment")) { return; }
    if (!screen.querySelector(".kiosk-pager") && fitsScreen()) { return; }
    var focused = document.activeElement;
    var outside = focused && focused !== document.body && !screen.contains(focused);
    renderStep(true);
    if (outside && document.contains(focused)) { focused.focus(); }
  }

  var resizing = 0;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(relayout, 150);
  });

  function answer(value) {
    var all = steps();
    var step = all[survey.index];
    var spent = (Date.now() - survey.shownAt) / 1000;
    survey.timings[step.key] = Math.round(((survey.timings[step.key] || 0) + spent) * 10) / 10;
    if (step.section === "respondent_type") {
      if (survey.rtype !== value) { survey.answers = {}; survey.profile = {}; survey.comment = ""; }
      survey.rtype = value;
    } else if (step.section === "comment") {
      survey.comment = value;
    } else if (step.section === "profile") {
      survey.profile[step.key] = value;
    } else {
      survey.answers[step.key] = value;
    }
    all = steps();
    survey.index += 1;
    if (survey.index < all.length) { renderStep(); return; }
    finish(all);
  }

  function finish(all) {
    var asked = {};
    all.forEach(function (step) { asked[step.key] = true; });
    function only(given) {
      var out = {};
      Object.keys(given).forEach(function (key) { if (asked[key]) { out[key] = given[key]; } });
      return out;
    }
    var item = {
      key: survey.key, respondent_type: survey.rtype, answers: only(survey.answers),
      profile: only(survey.profile), comment: survey.comment || "",
      started_at: survey.startedAt, finished_at: new Date().toISOString(),
      timings: only(survey.timings), app_version: config.appVersion,
    };
    var queue = load(QUEUE_KEY, []);
    queue.push(item);
    save(QUEUE_KEY, queue);
    survey = null;
    thanksAt = Date.now();
    hideCountdown();
    show([el("h1", { "class": "survey-heading", id: "step-heading", tabindex: "-1",
                     text: texts.thanksHeading }),
          el("p", { text: texts.thanksLead })], "thanks");
    flush();
  }

  // --- inactivity --------------------------------------------------------------------------

  function activity() {
    lastActivity = Date.now();
    if (!countdownBox.hidden) { hideCountdown(); }
  }

  function hideCountdown() {
    countdownBox.hidden = true;
    countdownBox.textContent = "";
  }

  function tick() {
    var now = Date.now();
    if (state === "thanks" && now - thanksAt >= config.thanksSeconds * 1000) { attract(); return; }
    var timed = state === "survey" || (state === "poll" && poll && (!poll.home || poll.index > 0));
    if (!timed) { return; }
    var idle = (now - lastActivity) / 1000;
    var left = Math.ceil(config.idleSeconds - idle);
    if (left <= 0) { attract(); return; }
    if (left <= config.countdownSeconds) {
      countdownBox.hidden = false;
      countdownBox.textContent = "";
      countdownBox.appendChild(document.createTextNode(fmt(texts.countdown, { s: left }) + " "));
      countdownBox.appendChild(el("button", { type: "button", "class": "button kiosk-still-here",
                                              text: texts.stillHere, onclick: activity }));
    }
  }

  ["pointerdown", "touchstart", "keydown", "input"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true });
  });

  // --- display switch (reset with each new respondent) ----------------------------------------

  function resetDisplay() {
    document.documentElement.classList.remove("a11y-large", "a11y-contrast");
    Array.prototype.forEach.call(document.querySelectorAll("[data-a11y]"), function (b) {
      b.setAttribute("aria-pressed", "false");
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-a11y]"), function (button) {
    button.addEventListener("click", function () {
      var cls = "a11y-" + button.getAttribute("data-a11y");
      var on = document.documentElement.classList.toggle(cls);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      relayout();
    });
  });

  // --- delivery ------------------------------------------------------------------------------

  function updateNet() {
    var queued = load(QUEUE_KEY, []).length;
    var parts = [];
    if (!navigator.onLine || lastSendFailed) { parts.push(texts.offline); }
    if (queued) { parts.push(fmt(texts.queued, { n: queued })); }
    netBox.textContent = parts.join(" ");
    document.body.setAttribute("data-queue", String(queued));
  }

  function dropItem(key) {
    save(QUEUE_KEY, load(QUEUE_KEY, []).filter(function (item) { return item.key !== key; }));
  }

  // The item goes to the end of the queue: a server error on it (other than 503, "not now")
  // may be about this item alone, and must not hold back the answers behind it.
  function moveToBack(key) {
    var queue = load(QUEUE_KEY, []);
    var item = queue.filter(function (entry) { return entry.key === key; });
    save(QUEUE_KEY, queue.filter(function (entry) { return entry.key !== key; }).concat(item));
  }

  // A 4xx answer is about the item itself, and sending it again cannot change it: any but
  // 401 (the device is revoked: nothing is sent), 408 (the request timed out) and 429 (over
  // the device's limit: later). A 5xx or no answer: the server may store it later.
  function refusedForGood(status) {
    return status >= 400 && status < 500 && status !== 401 && status !== 408 && status !== 429;
  }

  function flush() {
    if (flushing) { return Promise.resolve(); }
    var queue = load(QUEUE_KEY, []);
    if (!queue.length) { lastSendFailed = false; updateNet(); return Promise.resolve(); }
    flushing = true;
    var item = queue[0];
    var url = item.kind === "exit_poll" ? config.exitPollUrl : config.responsesUrl;
    return fetch(url, { method: "POST", headers: headers(), body: JSON.stringify(item),
                                        credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          flushing = false;
          if (response.status === 200 || response.status === 201) {
            dropItem(item.key);
            appendLog(SENT_KEY, { key: item.key, status: response.status });
            lastSendFailed = false;
            retryDelay = 2000;
            return flush();
          }
          if (response.status === 401) { lastSendFailed = true; revoked(); return null; }
          if (refusedForGood(response.status)) {
            // refused for good: keep a record, never block the rest of the queue
            dropItem(item.key);
            appendLog(REJECTED_KEY, { item: item, status: response.status,
                                      error: body.error || "", at: new Date().toISOString() });
            return flush();
          }
          if (response.status >= 500 && response.status !== 503) { moveToBack(item.key); }
          throw new Error("status " + response.status);
        });
      })
      .catch(function () {
        flushing = false;
        lastSendFailed = true;
        retryAt = Date.now() + retryDelay;
        retryDelay = Math.min(retryDelay * 2, 60000);
        updateNet();
      });
  }

  function heartbeat() {
    var body = { app_version: config.appVersion, queue_length: load(QUEUE_KEY, []).length,
                 rejected_length: load(REJECTED_KEY, []).length };
    return fetch(config.heartbeatUrl, { method: "POST", headers: headers(), body: JSON.stringify(body),
                                        credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { revoked(); }
      })
      .catch(function () { lastSendFailed = true; updateNet(); });
  }

  function fetchQuestionnaire() {
    return fetch(config.questionnaireUrl, { headers: headers(), credentials: "same-origin",
                                            cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { revoked(); return null; }
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json().then(function (data) {
          questionnaire = data;
          texts = data.texts;
          save(QUESTIONNAIRE_KEY, data);
          return fetchExitPoll();
        });
      })
      .catch(function () {
        if (!questionnaire) { window.setTimeout(fetchQuestionnaire, 10000); }
      })
      .then(function () {
        // the home screen drawn again with what arrived (not a respondent's screen)
        if (state === "attract" || state === "loading" || state === "closed" ||
            (state === "poll" && poll && poll.home && poll.index === 0)) { attract(); }
      });
  }

  // The exit poll's questions, kept like the questionnaire for an offline start; an error
  // keeps the last ones the device had.
  function fetchExitPoll() {
    return fetch(config.exitPollUrl, { headers: headers(), credentials: "same-origin",
                                       cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { return null; }
        return response.json().then(function (data) {
          exitPoll = data;
          save(EXIT_POLL_KEY, data);
        });
      })
      .catch(function () { /* offline: the kept questions */ });
  }

  window.addEventListener("online", function () { retryAt = 0; retryDelay = 2000; flush(); heartbeat(); });
  window.addEventListener("offline", updateNet);

  window.setInterval(tick, 250);
  window.setInterval(function () {
    if (!flushing && Date.now() >= retryAt && load(QUEUE_KEY, []).length) { flush(); }
  }, 1000);
  window.setInterval(heartbeat, config.heartbeatSeconds * 1000);
  window.setInterval(function () {
    if (state === "attract" || state === "closed" || (state === "poll" && poll && poll.home && poll.index === 0)) {
      fetchQuestionnaire();
    }
  }, 15 * 60 * 1000);

  // For the operator's console and the tests: what is waiting, and "send everything now".
  window.cciKiosk = {
    flush: function () { retryAt = 0; return flush(); },
    queue: function () { return load(QUEUE_KEY, []); },
    rejected: function () { return load(REJECTED_KEY, []); },
    sent: function () { return load(SENT_KEY, []); },
    heartbeat: function () { return heartbeat(); },
  };

  // Offline start: the service worker serves this page and its files from the cache, which
  // the page fills with what it loaded (only a page that opened as the app: a 200).
  function cacheShell() {
    if (!("serviceWorker" in navigator) || !window.caches) { return Promise.resolve(); }
    return navigator.serviceWorker.register(config.serviceWorkerUrl, { scope: config.scope })
      .then(function () { return window.caches.open("cci-kiosk-v1"); })
      .then(function (cache) {
        var urls = [window.location.pathname];
        Array.prototype.forEach.call(document.querySelectorAll("link[rel=stylesheet], script[src]"),
          function (node) { urls.push(node.getAttribute("href") || node.getAttribute("src")); });
        return cache.addAll(urls);
      })
      .then(function () { document.body.setAttribute("data-offline-ready", "true"); })
      .catch(function () { /* no cache: the kiosk still works while this page stays open */ });
  }

  attract();
  cacheShell();
  fetchQuestionnaire().then(function () { flush(); heartbeat(); });
}());
